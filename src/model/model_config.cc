// Expands a DeepLabConfig into the layers of the published DeepLabV3 MobileNetV2 graph.
#include "model/model_config.h"

#include <algorithm>
#include <cmath>

namespace qseg::model {
namespace {

// MobileNetV2's V2_DEF: (stride, output channels at depth multiplier 1) of expanded_conv_N.
struct BlockDef {
  int stride;
  int channels;
};
constexpr BlockDef kBlocks[] = {{1, 16}, {2, 24},  {1, 24},  {2, 32},  {1, 32}, {1, 32},
                                {2, 64}, {1, 64},  {1, 64},  {1, 64},  {1, 96}, {1, 96},
                                {1, 96}, {2, 160}, {1, 160}, {1, 160}, {1, 320}};
constexpr int kStemChannels = 32;
constexpr int kExpansion = 6;
constexpr int kHeadChannels = 256;
constexpr int kDecoderProjectionChannels = 48;
constexpr float kBackboneEpsilon = 1e-3f;  // slim MobileNetV2 batch norm
constexpr float kHeadEpsilon = 1e-5f;      // DeepLab's own layers

std::string block_name(int index) {
  return index == 0 ? "MobilenetV2/expanded_conv"
                    : "MobilenetV2/expanded_conv_" + std::to_string(index);
}

// The block whose depthwise output DeepLab's decoder takes at a given stride
// (layer_4/layer_7/layer_14 of its MobileNetV2 end points, i.e. expanded_conv_2/_5/_12).
int decoder_block_for_stride(int stride) {
  switch (stride) {
    case 4:
      return 2;
    case 8:
      return 5;
    default:
      return 12;
  }
}

class SpecBuilder {
 public:
  explicit SpecBuilder(const DeepLabConfig& config) { spec_.config = config; }

  int add(LayerSpec layer) {
    const bool folded = spec_.config.folded;
    if (folded && layer.batch_norm) {
      layer.batch_norm = false;
      layer.bias = true;
    }
    spec_.layers.push_back(std::move(layer));
    return static_cast<int>(spec_.layers.size()) - 1;
  }

  int conv(std::string name, int in, int out, int kernel, int stride, int dilation, Activation act,
           float epsilon) {
    LayerSpec l;
    l.name = std::move(name);
    l.kind = LayerKind::kConv;
    l.in_channels = in;
    l.out_channels = out;
    l.kernel = kernel;
    l.stride = stride;
    l.dilation = dilation;
    l.activation = act;
    l.batch_norm = true;
    l.batch_norm_epsilon = epsilon;
    return add(std::move(l));
  }

  int depthwise(std::string name, int channels, int stride, int dilation, float epsilon) {
    LayerSpec l;
    l.name = std::move(name);
    l.kind = LayerKind::kDepthwise;
    l.in_channels = channels;
    l.out_channels = channels;
    l.kernel = 3;
    l.stride = stride;
    l.dilation = dilation;
    l.activation = Activation::kRelu6;
    l.batch_norm = true;
    l.batch_norm_epsilon = epsilon;
    return add(std::move(l));
  }

  SeparableSpec separable(const std::string& scope, int in, int out, int dilation) {
    SeparableSpec s;
    s.depthwise = depthwise(scope + "_depthwise", in, 1, dilation, kHeadEpsilon);
    spec_.layers[s.depthwise].activation = Activation::kRelu;
    s.pointwise = conv(scope + "_pointwise", in, out, 1, 1, 1, Activation::kRelu, kHeadEpsilon);
    return s;
  }

  DeepLabSpec& spec() { return spec_; }

 private:
  DeepLabSpec spec_;
};

}  // namespace

int make_divisible(double value, int divisor, int min_value) {
  int rounded = std::max(min_value, static_cast<int>(value + divisor / 2.0) / divisor * divisor);
  if (rounded < 0.9 * value) rounded += divisor;
  return rounded;
}

int DeepLabSpec::index_of(const std::string& name) const {
  for (size_t i = 0; i < layers.size(); ++i) {
    if (layers[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

Status validate(const DeepLabConfig& c) {
  if (!(c.depth_multiplier > 0.0f && c.depth_multiplier <= 4.0f)) {
    return Status::error("depth multiplier must be in (0, 4], got " +
                         std::to_string(c.depth_multiplier));
  }
  if (c.divisible_by < 0 || c.divisible_by > 64) {
    return Status::error("divisible_by must be in [0, 64], got " + std::to_string(c.divisible_by));
  }
  if (c.output_stride != 8 && c.output_stride != 16 && c.output_stride != 32) {
    return Status::error("output stride must be 8, 16 or 32, got " +
                         std::to_string(c.output_stride));
  }
  if (c.num_classes < 1 || c.num_classes > 255) {
    return Status::error("number of classes must be in [1, 255], got " +
                         std::to_string(c.num_classes));
  }
  for (int rate : c.aspp_rates) {
    if (rate < 1 || rate > 64)
      return Status::error("ASPP rates must be in [1, 64], got " + std::to_string(rate));
  }
  if (c.decoder_output_stride != 0 &&
      ((c.decoder_output_stride != 4 && c.decoder_output_stride != 8) ||
       c.decoder_output_stride >= c.output_stride)) {
    return Status::error(
        "decoder output stride must be 0 (none), 4 or 8 and below the output stride, got " +
        std::to_string(c.decoder_output_stride));
  }
  for (int side : {c.input_height, c.input_width}) {
    if (side < kMinInputSide || side > kMaxInputSide) {
      return Status::error("input height and width must be in [" + std::to_string(kMinInputSide) +
                           ", " + std::to_string(kMaxInputSide) + "], got " +
                           std::to_string(c.input_height) + "x" + std::to_string(c.input_width));
    }
  }
  if (!(c.dropout_keep_prob > 0.0f && c.dropout_keep_prob <= 1.0f)) {
    return Status::error("dropout keep probability must be in (0, 1], got " +
                         std::to_string(c.dropout_keep_prob));
  }
  return Status::ok();
}

Result<DeepLabSpec> deeplab_spec(const DeepLabConfig& config) {
  QSEG_RETURN_IF_ERROR(validate(config));
  const bool unit_multiplier = config.depth_multiplier == 1.0f;
  const int divisor = config.divisible_by > 0 ? config.divisible_by : (unit_multiplier ? 8 : 1);
  const int min_depth = unit_multiplier ? 8 : 1;
  auto scaled = [&](int channels) {
    return make_divisible(channels * static_cast<double>(config.depth_multiplier), divisor,
                          min_depth);
  };

  SpecBuilder b(config);
  DeepLabSpec& spec = b.spec();
  // slim's mobilenet_base: once the stride reaches output_stride, strides become atrous rates.
  int current_stride = 1;
  int rate = 1;
  auto next_stride = [&](int stride, int* layer_stride, int* layer_rate) {
    if (current_stride == config.output_stride) {
      *layer_stride = 1;
      *layer_rate = rate;
      rate *= stride;
    } else {
      *layer_stride = stride;
      *layer_rate = 1;
      current_stride *= stride;
    }
  };
  int stride = 0, dilation = 0;
  next_stride(2, &stride, &dilation);
  int channels = scaled(kStemChannels);
  spec.stem = b.conv("MobilenetV2/Conv", 3, channels, 3, stride, dilation, Activation::kRelu6,
                     kBackboneEpsilon);

  for (int i = 0; i < static_cast<int>(std::size(kBlocks)); ++i) {
    BlockSpec block;
    block.name = block_name(i);
    next_stride(kBlocks[i].stride, &stride, &dilation);
    const int out = scaled(kBlocks[i].channels);
    int inner = channels;
    if (i > 0) {
      inner = make_divisible(channels * static_cast<double>(kExpansion), 8, 8);
      block.expand = b.conv(block.name + "/expand", channels, inner, 1, 1, 1, Activation::kRelu6,
                            kBackboneEpsilon);
    }
    block.depthwise =
        b.depthwise(block.name + "/depthwise", inner, stride, dilation, kBackboneEpsilon);
    block.project =
        b.conv(block.name + "/project", inner, out, 1, 1, 1, Activation::kNone, kBackboneEpsilon);
    block.residual = stride == 1 && out == channels;
    channels = out;
    spec.blocks.push_back(block);
  }

  if (config.image_pooling) {
    spec.image_pooling =
        b.conv("image_pooling", channels, kHeadChannels, 1, 1, 1, Activation::kRelu, kHeadEpsilon);
  }
  spec.aspp0 = b.conv("aspp0", channels, kHeadChannels, 1, 1, 1, Activation::kRelu, kHeadEpsilon);
  for (size_t i = 0; i < config.aspp_rates.size(); ++i) {
    spec.aspp.push_back(
        b.separable("aspp" + std::to_string(i + 1), channels, kHeadChannels, config.aspp_rates[i]));
  }
  const int branches =
      1 + (config.image_pooling ? 1 : 0) + static_cast<int>(config.aspp_rates.size());
  spec.concat_projection = b.conv("concat_projection", branches * kHeadChannels, kHeadChannels, 1,
                                  1, 1, Activation::kRelu, kHeadEpsilon);
  int head_channels = kHeadChannels;
  if (config.decoder_output_stride > 0) {
    spec.decoder_block = decoder_block_for_stride(config.decoder_output_stride);
    const int low_level_channels =
        spec.layers[spec.blocks[spec.decoder_block].depthwise].out_channels;
    spec.decoder_projection =
        b.conv("decoder/feature_projection0", low_level_channels, kDecoderProjectionChannels, 1, 1,
               1, Activation::kRelu, kHeadEpsilon);
    spec.decoder.push_back(b.separable(
        "decoder/decoder_conv0", kHeadChannels + kDecoderProjectionChannels, kHeadChannels, 1));
    spec.decoder.push_back(b.separable("decoder/decoder_conv1", kHeadChannels, kHeadChannels, 1));
    head_channels = kHeadChannels;
  }
  LayerSpec logits;
  logits.name = kLogitsScope;
  logits.in_channels = head_channels;
  logits.out_channels = config.num_classes;
  logits.bias = true;
  spec.logits = b.add(std::move(logits));
  return std::move(spec);
}

SamePadding same_padding(int input, int kernel, int stride, int dilation) {
  SamePadding p;
  p.output = (input + stride - 1) / stride;
  const int effective = dilation * (kernel - 1) + 1;
  const int total = std::max((p.output - 1) * stride + effective - input, 0);
  p.before = total / 2;
  p.after = total - p.before;
  return p;
}

nlohmann::json config_to_json(const DeepLabConfig& c) {
  return {{"depth_multiplier", c.depth_multiplier},
          {"divisible_by", c.divisible_by},
          {"output_stride", c.output_stride},
          {"num_classes", c.num_classes},
          {"aspp_rates", c.aspp_rates},
          {"decoder_output_stride", c.decoder_output_stride},
          {"image_pooling", c.image_pooling},
          {"folded", c.folded},
          {"input_height", c.input_height},
          {"input_width", c.input_width},
          {"dropout_keep_prob", c.dropout_keep_prob}};
}

Result<DeepLabConfig> config_from_json(const nlohmann::json& json) {
  DeepLabConfig c;
  try {
    if (!json.is_object()) return Status::error("model config is not a JSON object");
    c.depth_multiplier = json.at("depth_multiplier").get<float>();
    c.divisible_by = json.at("divisible_by").get<int>();
    c.output_stride = json.at("output_stride").get<int>();
    c.num_classes = json.at("num_classes").get<int>();
    c.aspp_rates = json.at("aspp_rates").get<std::vector<int>>();
    c.decoder_output_stride = json.at("decoder_output_stride").get<int>();
    c.image_pooling = json.at("image_pooling").get<bool>();
    c.folded = json.at("folded").get<bool>();
    if (json.contains("input_height") || json.contains("input_width")) {
      c.input_height = json.at("input_height").get<int>();
      c.input_width = json.at("input_width").get<int>();
    } else {  // written before non-square inputs: one square size
      c.input_height = c.input_width = json.at("input_size").get<int>();
    }
    c.dropout_keep_prob = json.at("dropout_keep_prob").get<float>();
  } catch (const nlohmann::json::exception& e) {
    return Status::error(std::string("bad model config: ") + e.what());
  }
  QSEG_RETURN_IF_ERROR(validate(c));
  return c;
}

std::string weight_name(const LayerSpec& layer) {
  return layer.name + (layer.kind == LayerKind::kDepthwise ? "/depthwise_weights" : "/weights");
}

std::vector<int64_t> weight_shape(const LayerSpec& layer) {
  const int64_t in_per_group = layer.kind == LayerKind::kDepthwise ? 1 : layer.in_channels;
  return {layer.out_channels, in_per_group, layer.kernel, layer.kernel};
}

std::string range_name(const std::string& scope) { return scope + "/range"; }

}  // namespace qseg::model

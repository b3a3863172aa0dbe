// Export: a training checkpoint -> the frozen float graph with ranges, and that graph <-> a Graph.
// The plain float Graph is what qseg export writes; graph_to_frozen takes any float DeepLab-like
// graph.
#include <cmath>
#include <cstring>

#include "convert/convert.h"
#include "model/model_config.h"

namespace qseg::convert {
namespace {

using model::CheckpointFile;
using model::CheckpointTensor;
using model::LayerKind;
using model::LayerSpec;
using model::weight_name;
using model::weight_shape;

constexpr const char* kInputName = "MobilenetV2/MobilenetV2/input";

std::vector<uint8_t> bytes_of(const float* data, size_t count) {
  std::vector<uint8_t> bytes(count * sizeof(float));
  std::memcpy(bytes.data(), data, bytes.size());
  return bytes;
}

// Builds the float graph op by op.
class Builder {
 public:
  Builder(const CheckpointFile& checkpoint, const std::string& name)
      : checkpoint_(checkpoint), name_(name) {}

  FrozenGraph& frozen() { return frozen_; }

  int add_tensor(std::string tensor_name, DataType type, std::vector<int32_t> shape) {
    Tensor t;
    t.name = std::move(tensor_name);
    t.type = type;
    t.shape = std::move(shape);
    frozen_.graph.tensors.push_back(std::move(t));
    frozen_.ranges.emplace_back();
    frozen_.weight_quantization.emplace_back();
    return static_cast<int>(frozen_.graph.tensors.size()) - 1;
  }

  int add_constant(std::string tensor_name, DataType type, std::vector<int32_t> shape,
                   std::vector<uint8_t> data) {
    const int index = add_tensor(std::move(tensor_name), type, std::move(shape));
    frozen_.graph.tensors[index].data = std::move(data);
    frozen_.graph.tensors[index].is_constant = true;
    return index;
  }

  int add_size_constant(int height, int width) {
    const int32_t size[2] = {height, width};
    std::vector<uint8_t> data(sizeof size);
    std::memcpy(data.data(), size, sizeof size);
    return add_constant("size_" + std::to_string(height) + "x" + std::to_string(width),
                        DataType::kInt32, {2}, std::move(data));
  }

  void add_op(OpType type, std::vector<int32_t> inputs, int output, OpOptions options,
              int version = 1) {
    Op op;
    op.type = type;
    op.version = version;
    op.inputs = std::move(inputs);
    op.outputs = {output};
    op.options = std::move(options);
    frozen_.graph.ops.push_back(std::move(op));
  }

  // The range "<scope>/range" of the checkpoint, when it has one; the scope is recorded either way.
  Status set_range(int tensor, const std::string& scope) {
    frozen_.range_scopes[tensor] = scope;
    const CheckpointTensor* r = checkpoint_.find(scope + "/range");
    if (!r) return Status::ok();
    if (r->data.size() != 2 || !(r->data[0] <= r->data[1]) || !std::isfinite(r->data[0]) ||
        !std::isfinite(r->data[1])) {
      return Status::error(name_ + ": bad activation range " + scope + "/range");
    }
    frozen_.ranges[tensor] = quant::FloatRange{r->data[0], r->data[1]};
    return Status::ok();
  }

  Result<const CheckpointTensor*> find(const std::string& tensor_name,
                                       const std::vector<int64_t>& shape) const {
    const CheckpointTensor* t = checkpoint_.find(tensor_name);
    if (!t) return Status::error(name_ + ": checkpoint has no tensor " + tensor_name);
    if (t->shape != shape)
      return Status::error(name_ + ": tensor " + tensor_name + " has the wrong shape");
    return t;
  }

  // One convolution layer of the spec on `input` ([1, h, w, c]): folded weights, fused
  // activation, output range.
  Result<int> conv(const LayerSpec& s, int input) {
    const std::vector<int32_t> in_shape =
        frozen_.graph.tensors[input].shape;  // a copy: tensors grow
    const bool depthwise = s.kind == LayerKind::kDepthwise;
    const std::vector<int64_t> shape = weight_shape(s);
    QSEG_ASSIGN_OR_RETURN(const CheckpointTensor* w, find(weight_name(s), shape));
    std::vector<float> multiplier(s.out_channels, 1.0f), bias(s.out_channels, 0.0f);
    if (s.batch_norm) {
      const std::vector<int64_t> vec = {s.out_channels};
      QSEG_ASSIGN_OR_RETURN(const CheckpointTensor* gamma, find(s.name + "/BatchNorm/gamma", vec));
      QSEG_ASSIGN_OR_RETURN(const CheckpointTensor* beta, find(s.name + "/BatchNorm/beta", vec));
      QSEG_ASSIGN_OR_RETURN(const CheckpointTensor* mean,
                            find(s.name + "/BatchNorm/moving_mean", vec));
      QSEG_ASSIGN_OR_RETURN(const CheckpointTensor* variance,
                            find(s.name + "/BatchNorm/moving_variance", vec));
      for (int c = 0; c < s.out_channels; ++c) {
        multiplier[c] = gamma->data[c] / std::sqrt(variance->data[c] + s.batch_norm_epsilon);
        bias[c] = beta->data[c] - mean->data[c] * multiplier[c];
      }
    } else if (s.bias) {
      QSEG_ASSIGN_OR_RETURN(const CheckpointTensor* b, find(s.name + "/biases", {s.out_channels}));
      bias = b->data;
    }
    // libtorch [out, in, kh, kw] -> TFLite [out, kh, kw, in]; depthwise [1, kh, kw, out].
    const int k = s.kernel, out = s.out_channels, in = static_cast<int>(shape[1]);
    std::vector<float> weights(w->data.size());
    for (int o = 0; o < out; ++o) {
      for (int i = 0; i < in; ++i) {
        for (int y = 0; y < k; ++y) {
          for (int x = 0; x < k; ++x) {
            const float v =
                w->data[((static_cast<size_t>(o) * in + i) * k + y) * k + x] * multiplier[o];
            const size_t to = depthwise ? (static_cast<size_t>(y) * k + x) * out + o
                                        : ((static_cast<size_t>(o) * k + y) * k + x) * in + i;
            weights[to] = v;
          }
        }
      }
    }
    const std::vector<int32_t> tflite_shape =
        depthwise ? std::vector<int32_t>{1, k, k, out} : std::vector<int32_t>{out, k, k, in};
    const int weight_tensor = add_constant(weight_name(s), DataType::kFloat32, tflite_shape,
                                           bytes_of(weights.data(), weights.size()));
    if (const CheckpointTensor* q = checkpoint_.find(s.name + "/weights_quantization");
        q && q->data.size() == 2 && !s.batch_norm) {
      frozen_.weight_quantization[weight_tensor] =
          std::make_pair(q->data[0], static_cast<int32_t>(std::lround(q->data[1])));
    }
    const int bias_tensor =
        add_constant(s.name + "/biases", DataType::kFloat32, {out}, bytes_of(bias.data(), out));
    const model::SamePadding ph = model::same_padding(in_shape[1], k, s.stride, s.dilation);
    const model::SamePadding pw = model::same_padding(in_shape[2], k, s.stride, s.dilation);
    const int output =
        add_tensor(s.name + "/output", DataType::kFloat32, {1, ph.output, pw.output, out});
    QSEG_RETURN_IF_ERROR(set_range(output, s.name + "/act_quant"));
    if (depthwise) {
      DepthwiseConv2dOptions o;
      o.stride_h = o.stride_w = s.stride;
      o.dilation_h = o.dilation_w = s.dilation;
      o.activation = s.activation;
      add_op(OpType::kDepthwiseConv2d, {input, weight_tensor, bias_tensor}, output, o,
             s.dilation > 1 ? 2 : 1);
    } else {
      Conv2dOptions o;
      o.stride_h = o.stride_w = s.stride;
      o.dilation_h = o.dilation_w = s.dilation;
      o.activation = s.activation;
      add_op(OpType::kConv2d, {input, weight_tensor, bias_tensor}, output, o);
    }
    return output;
  }

 private:
  const CheckpointFile& checkpoint_;
  std::string name_;
  FrozenGraph frozen_;
};

}  // namespace

bool FrozenGraph::has_all_ranges() const {
  for (size_t i = 0; i < graph.tensors.size(); ++i) {
    if (!graph.tensors[i].is_constant && static_cast<int>(i) != graph.inputs[0] && !ranges[i])
      return false;
  }
  return true;
}

namespace {

// The MobileNetV2 backbone's outputs: the features, and the depthwise output the decoder reads
// (-1 without a decoder).
struct Backbone {
  int features = -1;
  int low_level = -1;
};

// The MobileNetV2 backbone on `input`: the stem, then each inverted residual block (expansion,
// depthwise, projection, the residual ADD).
Result<Backbone> add_backbone(Builder& b, const model::DeepLabSpec& spec, int input) {
  Backbone out;
  QSEG_ASSIGN_OR_RETURN(int x, b.conv(spec.layers[spec.stem], input));
  for (size_t i = 0; i < spec.blocks.size(); ++i) {
    const model::BlockSpec& block = spec.blocks[i];
    int y = x;
    if (block.expand >= 0) {
      QSEG_ASSIGN_OR_RETURN(y, b.conv(spec.layers[block.expand], y));
    }
    QSEG_ASSIGN_OR_RETURN(y, b.conv(spec.layers[block.depthwise], y));
    if (static_cast<int>(i) == spec.decoder_block) out.low_level = y;
    QSEG_ASSIGN_OR_RETURN(y, b.conv(spec.layers[block.project], y));
    if (block.residual) {
      const std::vector<int32_t> shape = b.frozen().graph.tensors[y].shape;
      const int sum = b.add_tensor(block.name + "/add", DataType::kFloat32, shape);
      QSEG_RETURN_IF_ERROR(b.set_range(sum, block.name + "/add_quant"));
      b.add_op(OpType::kAdd, {x, y}, sum, AddOptions{});
      y = sum;
    }
    x = y;
  }
  out.features = x;
  return out;
}

// RESIZE_BILINEAR of `input` to height x width with corners aligned (TF DeepLab's
// _resize_bilinear), on the input's grid (TFLite's uint8 resize keeps it).
int add_resize(Builder& b, int input, int height, int width, const std::string& name) {
  const int channels = b.frozen().graph.tensors[input].shape[3];
  const int resized = b.add_tensor(name, DataType::kFloat32, {1, height, width, channels});
  b.frozen().ranges[resized] = b.frozen().ranges[input];
  ResizeBilinearOptions resize;
  resize.align_corners = true;
  b.add_op(OpType::kResizeBilinear, {input, b.add_size_constant(height, width)}, resized, resize);
  return resized;
}

// The image-pooling branch on the features: AVERAGE_POOL_2D over the whole map (on the features'
// grid), its 1x1 convolution, RESIZE_BILINEAR back to the map's size (on the convolution's grid).
Result<int> add_image_pooling(Builder& b, const model::DeepLabSpec& spec, int features) {
  const std::vector<int32_t> shape = b.frozen().graph.tensors[features].shape;
  const int h = shape[1], w = shape[2];
  const int pooled = b.add_tensor("image_pooling/pool", DataType::kFloat32, {1, 1, 1, shape[3]});
  b.frozen().ranges[pooled] = b.frozen().ranges[features];
  Pool2dOptions pool;
  pool.padding = Padding::kValid;
  pool.filter_h = h;
  pool.filter_w = w;
  b.add_op(OpType::kAveragePool2d, {features}, pooled, pool);
  QSEG_ASSIGN_OR_RETURN(const int conv, b.conv(spec.layers[spec.image_pooling], pooled));
  return add_resize(b, conv, h, w, "image_pooling/upsampled");
}

// CONCATENATION of `inputs` along channels (all of the first one's height and width), with the
// checkpoint's range of range_scope.
Result<int> add_concat(Builder& b, const std::vector<int32_t>& inputs, const std::string& name,
                       const std::string& range_scope) {
  const std::vector<int32_t> first = b.frozen().graph.tensors[inputs[0]].shape;
  int channels = 0;
  for (int t : inputs) channels += b.frozen().graph.tensors[t].shape[3];
  const int y = b.add_tensor(name, DataType::kFloat32, {1, first[1], first[2], channels});
  QSEG_RETURN_IF_ERROR(b.set_range(y, range_scope));
  ConcatenationOptions concat;
  concat.axis = 3;
  b.add_op(OpType::kConcatenation, inputs, y, concat);
  return y;
}

Result<int> add_separable(Builder& b, const model::DeepLabSpec& spec, const model::SeparableSpec& s,
                          int x) {
  QSEG_ASSIGN_OR_RETURN(const int depthwise, b.conv(spec.layers[s.depthwise], x));
  return b.conv(spec.layers[s.pointwise], depthwise);
}

// The ASPP head on the features: image pooling, the 1x1 branch, the separable atrous branches,
// their CONCATENATION and the projection. Returns the projection.
Result<int> add_aspp(Builder& b, const model::DeepLabSpec& spec, int x) {
  std::vector<int32_t> branches;
  if (spec.image_pooling >= 0) {
    QSEG_ASSIGN_OR_RETURN(const int pooled, add_image_pooling(b, spec, x));
    branches.push_back(pooled);
  }
  QSEG_ASSIGN_OR_RETURN(const int aspp0, b.conv(spec.layers[spec.aspp0], x));
  branches.push_back(aspp0);
  for (const model::SeparableSpec& s : spec.aspp) {
    QSEG_ASSIGN_OR_RETURN(const int branch, add_separable(b, spec, s, x));
    branches.push_back(branch);
  }
  int y = branches[0];
  if (branches.size() > 1) {
    QSEG_ASSIGN_OR_RETURN(y, add_concat(b, branches, "concat", "concat_quant"));
  }
  return b.conv(spec.layers[spec.concat_projection], y);
}

// DeepLabV3+'s decoder (TF DeepLab's refine_by_decoder, one low-level feature): the ASPP output
// resized to the low-level feature's size (TF's scale_dimension of the input at the decoder
// stride, which is the SAME-padded size), feature_projection0 on the low-level feature, their
// CONCATENATION, two separable convolutions.
Result<int> add_decoder(Builder& b, const model::DeepLabSpec& spec, int aspp, int low_level) {
  QSEG_ASSIGN_OR_RETURN(const int projected,
                        b.conv(spec.layers[spec.decoder_projection], low_level));
  const std::vector<int32_t> size = b.frozen().graph.tensors[projected].shape;
  const int resized = add_resize(b, aspp, size[1], size[2], "decoder/upsampled");
  QSEG_ASSIGN_OR_RETURN(
      int y, add_concat(b, {resized, projected}, "decoder/concat", "decoder/concat_quant"));
  for (const model::SeparableSpec& s : spec.decoder) {
    QSEG_ASSIGN_OR_RETURN(y, add_separable(b, spec, s, y));
  }
  return y;
}

}  // namespace

Result<FrozenGraph> export_checkpoint(const CheckpointFile& checkpoint, const std::string& name,
                                      const ExportOptions& options) {
  if (!checkpoint.meta.contains("model"))
    return Status::error(name + ": checkpoint has no model config");
  auto parsed = model::config_from_json(checkpoint.meta["model"]);
  if (!parsed.is_ok()) return parsed.status().with_context(name);
  model::DeepLabConfig config = parsed.value();
  if (options.input_height > 0) config.input_height = options.input_height;
  if (options.input_width > 0) config.input_width = options.input_width;
  if (options.output_stride > 0) config.output_stride = options.output_stride;
  auto spec_result = model::deeplab_spec(config);
  if (!spec_result.is_ok()) return spec_result.status().with_context(name);
  const model::DeepLabSpec& spec = spec_result.value();

  Builder b(checkpoint, name);
  const int input =
      b.add_tensor(kInputName, DataType::kFloat32, {1, config.input_height, config.input_width, 3});
  b.frozen().graph.inputs = {input};
  b.frozen().ranges[input] = quant::FloatRange{-1.0f, 1.0f};
  QSEG_ASSIGN_OR_RETURN(const Backbone backbone, add_backbone(b, spec, input));
  QSEG_ASSIGN_OR_RETURN(int head, add_aspp(b, spec, backbone.features));
  if (spec.decoder_projection >= 0) {
    QSEG_ASSIGN_OR_RETURN(head, add_decoder(b, spec, head, backbone.low_level));
  }
  QSEG_ASSIGN_OR_RETURN(const int logits, b.conv(spec.layers[spec.logits], head));
  b.frozen().graph.tensors[logits].name = "logits";
  b.frozen().graph.outputs = {logits};
  b.frozen().input_height = config.input_height;
  b.frozen().input_width = config.input_width;
  b.frozen().num_classes = config.num_classes;
  b.frozen().graph.description = "qseg export of " + name;
  return std::move(b.frozen());
}

Result<Graph> frozen_to_graph(const FrozenGraph& frozen) {
  Graph g = frozen.graph;
  for (size_t i = 0; i < g.tensors.size(); ++i) {
    if (frozen.ranges[i]) {
      g.tensors[i].quant.min = {frozen.ranges[i]->min};
      g.tensors[i].quant.max = {frozen.ranges[i]->max};
    }
  }
  return g;
}

Result<FrozenGraph> graph_to_frozen(Graph graph, const std::string& name) {
  if (graph.inputs.size() != 1 || graph.outputs.size() != 1)
    return Status::error(name + ": a DeepLab graph has one input and one output");
  const Tensor& in = graph.tensors[graph.inputs[0]];
  const Tensor& out = graph.tensors[graph.outputs[0]];
  if (in.type != DataType::kFloat32 || in.shape.size() != 4 || in.shape[0] != 1 ||
      in.shape[1] < 1 || in.shape[2] < 1 || in.shape[3] != 3) {
    return Status::error(name + ": input must be float32 [1, H, W, 3] (a frozen float graph)");
  }
  if (out.type != DataType::kFloat32 || out.shape.size() != 4 || out.shape[0] != 1) {
    return Status::error(name + ": output must be float32 scores [1, h, w, classes]");
  }
  FrozenGraph frozen;
  frozen.input_height = in.shape[1];
  frozen.input_width = in.shape[2];
  frozen.num_classes = out.shape[3];
  frozen.ranges.resize(graph.tensors.size());
  frozen.weight_quantization.resize(graph.tensors.size());
  for (size_t i = 0; i < graph.tensors.size(); ++i) {
    Quantization& q = graph.tensors[i].quant;
    if (graph.tensors[i].type == DataType::kFloat32 && q.min.size() == 1 && q.max.size() == 1) {
      if (!(q.min[0] <= q.max[0]) || !std::isfinite(q.min[0]) || !std::isfinite(q.max[0]))
        return Status::error(name + ": tensor " + graph.tensors[i].name + " has a bad range");
      frozen.ranges[i] = quant::FloatRange{q.min[0], q.max[0]};
    }
    q.min.clear();
    q.max.clear();
  }
  frozen.ranges[graph.inputs[0]] = quant::FloatRange{-1.0f, 1.0f};
  frozen.graph = std::move(graph);
  return frozen;
}

}  // namespace qseg::convert

// Checkpoint -> frozen float graph with ranges -> deployable (uint8, int8 or float) graph.
#include "convert/convert.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

#include "model/model_config.h"

namespace qseg::convert {
namespace {

using model::CheckpointFile;
using model::CheckpointTensor;
using model::LayerKind;
using model::LayerSpec;

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

  // The range "<scope>/range" of the checkpoint, when it has one.
  Status set_range(int tensor, const std::string& scope) {
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
    const int64_t in_per_group = depthwise ? 1 : s.in_channels;
    const std::vector<int64_t> shape = {s.out_channels, in_per_group, s.kernel, s.kernel};
    QSEG_ASSIGN_OR_RETURN(const CheckpointTensor* w,
                          find(s.name + (depthwise ? "/depthwise_weights" : "/weights"), shape));
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
    const int k = s.kernel, out = s.out_channels, in = static_cast<int>(in_per_group);
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
    const std::vector<int32_t> weight_shape =
        depthwise ? std::vector<int32_t>{1, k, k, out} : std::vector<int32_t>{out, k, k, in};
    const int weight_tensor =
        add_constant(s.name + (depthwise ? "/depthwise_weights" : "/weights"), DataType::kFloat32,
                     weight_shape, bytes_of(weights.data(), weights.size()));
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

bool same_quantization(const Quantization& a, const Quantization& b) {
  return a.scale == b.scale && a.zero_point == b.zero_point;
}

}  // namespace

bool FrozenGraph::has_all_ranges() const {
  for (size_t i = 0; i < graph.tensors.size(); ++i) {
    if (!graph.tensors[i].is_constant && static_cast<int>(i) != graph.inputs[0] && !ranges[i])
      return false;
  }
  return true;
}

Result<FrozenGraph> export_checkpoint(const CheckpointFile& checkpoint, const std::string& name,
                                      const ExportOptions& options) {
  if (!checkpoint.meta.contains("model"))
    return Status::error(name + ": checkpoint has no model config");
  auto parsed = model::config_from_json(checkpoint.meta["model"]);
  if (!parsed.is_ok()) return parsed.status().with_context(name);
  model::DeepLabConfig config = parsed.value();
  if (options.input_size > 0) config.input_size = options.input_size;
  if (options.output_stride > 0) config.output_stride = options.output_stride;
  auto spec_result = model::deeplab_spec(config);
  if (!spec_result.is_ok()) return spec_result.status().with_context(name);
  const model::DeepLabSpec& spec = spec_result.value();
  if (spec.decoder_projection >= 0) {
    return Status::error(name +
                         ": export of the DeepLabV3+ decoder is not supported (the published "
                         "MobileNetV2 models have none)");
  }

  Builder b(checkpoint, name);
  const int size = config.input_size;
  const int input = b.add_tensor(kInputName, DataType::kFloat32, {1, size, size, 3});
  b.frozen().graph.inputs = {input};
  b.frozen().ranges[input] = quant::FloatRange{-1.0f, 1.0f};
  QSEG_ASSIGN_OR_RETURN(int x, b.conv(spec.layers[spec.stem], input));
  int features_range_source = x;
  for (const model::BlockSpec& block : spec.blocks) {
    int y = x;
    if (block.expand >= 0) {
      QSEG_ASSIGN_OR_RETURN(y, b.conv(spec.layers[block.expand], y));
    }
    QSEG_ASSIGN_OR_RETURN(y, b.conv(spec.layers[block.depthwise], y));
    QSEG_ASSIGN_OR_RETURN(y, b.conv(spec.layers[block.project], y));
    if (block.residual) {
      const std::vector<int32_t> shape = b.frozen().graph.tensors[y].shape;
      const int sum = b.add_tensor(block.name + "/add", DataType::kFloat32, shape);
      QSEG_RETURN_IF_ERROR(b.set_range(sum, block.name + "/add_quant"));
      b.add_op(OpType::kAdd, {x, y}, sum, AddOptions{});
      y = sum;
    }
    x = y;
    features_range_source = x;
  }
  const std::vector<int32_t> features = b.frozen().graph.tensors[x].shape;
  const int h = features[1], w = features[2];

  std::vector<int32_t> branches;
  if (spec.image_pooling >= 0) {
    const int pooled =
        b.add_tensor("image_pooling/pool", DataType::kFloat32, {1, 1, 1, features[3]});
    b.frozen().ranges[pooled] = b.frozen().ranges[features_range_source];
    Pool2dOptions pool;
    pool.padding = Padding::kValid;
    pool.filter_h = h;
    pool.filter_w = w;
    b.add_op(OpType::kAveragePool2d, {x}, pooled, pool);
    QSEG_ASSIGN_OR_RETURN(const int conv, b.conv(spec.layers[spec.image_pooling], pooled));
    const int channels = spec.layers[spec.image_pooling].out_channels;
    const int up = b.add_tensor("image_pooling/upsampled", DataType::kFloat32, {1, h, w, channels});
    b.frozen().ranges[up] = b.frozen().ranges[conv];
    ResizeBilinearOptions resize;
    resize.align_corners = true;
    b.add_op(OpType::kResizeBilinear, {conv, b.add_size_constant(h, w)}, up, resize);
    branches.push_back(up);
  }
  QSEG_ASSIGN_OR_RETURN(const int aspp0, b.conv(spec.layers[spec.aspp0], x));
  branches.push_back(aspp0);
  for (const model::SeparableSpec& s : spec.aspp) {
    QSEG_ASSIGN_OR_RETURN(const int d, b.conv(spec.layers[s.depthwise], x));
    QSEG_ASSIGN_OR_RETURN(const int p, b.conv(spec.layers[s.pointwise], d));
    branches.push_back(p);
  }
  int y = branches[0];
  if (branches.size() > 1) {
    int channels = 0;
    for (int t : branches) channels += b.frozen().graph.tensors[t].shape[3];
    y = b.add_tensor("concat", DataType::kFloat32, {1, h, w, channels});
    QSEG_RETURN_IF_ERROR(b.set_range(y, "concat_quant"));
    ConcatenationOptions concat;
    concat.axis = 3;
    b.add_op(OpType::kConcatenation, branches, y, concat);
  }
  QSEG_ASSIGN_OR_RETURN(y, b.conv(spec.layers[spec.concat_projection], y));
  QSEG_ASSIGN_OR_RETURN(y, b.conv(spec.layers[spec.logits], y));
  b.frozen().graph.tensors[y].name = "logits";
  b.frozen().graph.outputs = {y};
  b.frozen().input_size = size;
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
      in.shape[1] != in.shape[2] || in.shape[3] != 3) {
    return Status::error(name + ": input must be float32 [1, S, S, 3] (a frozen float graph)");
  }
  if (out.type != DataType::kFloat32 || out.shape.size() != 4 || out.shape[0] != 1) {
    return Status::error(name + ": output must be float32 scores [1, h, w, classes]");
  }
  FrozenGraph frozen;
  frozen.input_size = in.shape[1];
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

namespace {

// Weights on their narrow-range uint8 grid (the one quantization-aware training rounded them
// to), or on a given scale and zero point.
void quantize_weights_uint8(Tensor& t, const std::optional<std::pair<float, int32_t>>& given) {
  const float* w = t.data_as<float>();
  const int64_t n = t.num_elements();
  float scale;
  int32_t zero_point;
  int32_t qmin = 1, qmax = 255;
  float nudged_min;
  if (given) {
    scale = given->first;
    zero_point = given->second;
    qmin = 0;
    nudged_min = (qmin - zero_point) * scale;
  } else {
    float lo = n > 0 ? w[0] : 0.0f, hi = lo;
    for (int64_t i = 0; i < n; ++i) {
      lo = std::min(lo, w[i]);
      hi = std::max(hi, w[i]);
    }
    const quant::FakeQuantGrid grid = quant::fake_quant_grid(lo, hi, 8, /*narrow_range=*/true);
    scale = grid.scale;
    zero_point = grid.zero_point;
    qmin = grid.qmin;
    qmax = grid.qmax;
    nudged_min = grid.nudged_min;
  }
  const float inverse = 1.0f / scale;
  std::vector<uint8_t> codes(n);
  for (int64_t i = 0; i < n; ++i) {
    if (given) {
      codes[i] =
          static_cast<uint8_t>(std::clamp<int64_t>(std::lround(w[i] / scale) + zero_point, 0, 255));
    } else {
      const float clamped = std::clamp(w[i], nudged_min, (qmax - qmin) * scale + nudged_min);
      const int32_t step =
          static_cast<int32_t>(std::floor((clamped - nudged_min) * inverse + 0.5f));
      codes[i] = static_cast<uint8_t>(std::clamp(step + qmin, qmin, qmax));
    }
  }
  t.type = DataType::kUInt8;
  t.data = std::move(codes);
  t.quant = Quantization{{scale}, {zero_point}, 0};
}

// Per-channel symmetric int8 weights (TFLite's int8 scheme), channel = `dimension`.
void quantize_weights_int8(Tensor& t, int dimension) {
  const float* w = t.data_as<float>();
  const int channels = t.shape[dimension];
  int64_t inner = 1;
  for (size_t d = dimension + 1; d < t.shape.size(); ++d) inner *= t.shape[d];
  const int64_t n = t.num_elements();
  std::vector<float> max_abs(channels, 0.0f);
  for (int64_t i = 0; i < n; ++i) {
    const int c = static_cast<int>((i / inner) % channels);
    max_abs[c] = std::max(max_abs[c], std::fabs(w[i]));
  }
  Quantization q;
  q.quantized_dimension = dimension;
  for (int c = 0; c < channels; ++c) {
    q.scale.push_back(max_abs[c] > 0 ? max_abs[c] / 127.0f : 1.0f);
    q.zero_point.push_back(0);
  }
  std::vector<uint8_t> codes(n);
  for (int64_t i = 0; i < n; ++i) {
    const int c = static_cast<int>((i / inner) % channels);
    const int32_t v =
        std::clamp<int32_t>(static_cast<int32_t>(std::lround(w[i] / q.scale[c])), -127, 127);
    codes[i] = static_cast<uint8_t>(static_cast<int8_t>(v));
  }
  t.type = DataType::kInt8;
  t.data = std::move(codes);
  t.quant = std::move(q);
}

void quantize_bias(Tensor& t, float input_scale, const Quantization& weights) {
  const float* b = t.data_as<float>();
  const int64_t n = t.num_elements();
  std::vector<int32_t> values(n);
  Quantization q;
  for (int64_t i = 0; i < n; ++i) {
    const float scale = input_scale * (weights.per_tensor() ? weights.scale[0] : weights.scale[i]);
    const double v = std::nearbyint(static_cast<double>(b[i]) / scale);
    values[i] = static_cast<int32_t>(std::clamp(v, -2147483648.0, 2147483647.0));
    if (weights.per_tensor()) {
      if (i == 0) q.scale.push_back(scale);
    } else {
      q.scale.push_back(scale);
    }
    if (i == 0 || !weights.per_tensor()) q.zero_point.push_back(0);
  }
  t.type = DataType::kInt32;
  t.data.resize(n * sizeof(int32_t));
  std::memcpy(t.data.data(), values.data(), t.data.size());
  t.quant = std::move(q);
}

}  // namespace

Result<Graph> convert_graph(const FrozenGraph& frozen, const ConvertOptions& options) {
  if (!(options.std > 0) || !std::isfinite(options.mean))
    return Status::error("--std must be positive and --mean finite");
  const bool quantized = options.inference_type != InferenceType::kFloat;
  const bool int8 = options.inference_type == InferenceType::kInt8PerChannel;
  const DataType activation_type = int8 ? DataType::kInt8 : DataType::kUInt8;
  Graph g = frozen.graph;
  const int size = frozen.input_size;

  // Activation quantization from the ranges: TensorFlow's nudged 8-bit grid.
  if (quantized) {
    for (size_t i = 0; i < g.tensors.size(); ++i) {
      Tensor& t = g.tensors[i];
      if (t.is_constant || static_cast<int>(i) == g.inputs[0]) continue;
      if (!frozen.ranges[i]) {
        return Status::error("tensor " + t.name +
                             " has no activation range: train with quantization "
                             "(--quantize-delay-step) or calibrate (--calibrate)");
      }
      const quant::FakeQuantGrid grid =
          quant::fake_quant_grid(frozen.ranges[i]->min, frozen.ranges[i]->max, 8, false);
      t.type = activation_type;
      t.quant = Quantization{{grid.scale}, {grid.zero_point - (int8 ? 128 : 0)}, 0};
    }
  }

  std::vector<Op> ops;
  // The model input as the user feeds it.
  const int float_input = g.inputs[0];
  int input = float_input;
  const Quantization pixel_quant{
      {1.0f / options.std}, {static_cast<int64_t>(std::lround(options.mean))}, 0};
  if (quantized) {
    Tensor& t = g.tensors[float_input];
    t.type = activation_type;
    t.quant = pixel_quant;
    if (int8) t.quant.zero_point[0] -= 128;
    if (!options.uint8_input || int8) {
      // A QUANTIZE op in front: from float32, or from uint8 pixels to int8.
      Tensor feed = t;
      feed.name = std::string(t.name) + "_feed";
      if (options.uint8_input) {
        feed.type = DataType::kUInt8;
        feed.quant = pixel_quant;
      } else {
        feed.type = DataType::kFloat32;
        feed.quant = Quantization{};
      }
      g.tensors.push_back(feed);
      input = static_cast<int>(g.tensors.size()) - 1;
      Op q;
      q.type = OpType::kQuantize;
      q.version = int8 ? 2 : 1;
      q.inputs = {input};
      q.outputs = {float_input};
      ops.push_back(q);
    }
  } else if (options.uint8_input) {
    Tensor feed = g.tensors[float_input];
    feed.name += "_uint8";
    feed.type = DataType::kUInt8;
    feed.quant = pixel_quant;
    g.tensors.push_back(feed);
    input = static_cast<int>(g.tensors.size()) - 1;
    Op d;
    d.type = OpType::kDequantize;
    d.inputs = {input};
    d.outputs = {float_input};
    ops.push_back(d);
  }

  // Which op produces each tensor (for --change-concat-input-ranges).
  std::vector<int> producer(g.tensors.size(), -1);
  for (size_t i = 0; i < frozen.graph.ops.size(); ++i)
    producer[frozen.graph.ops[i].outputs[0]] = static_cast<int>(i);

  std::vector<Op> body = frozen.graph.ops;
  if (quantized) {
    // Ops that keep their input's grid (TFLite requires it for uint8 AVERAGE_POOL_2D and
    // RESIZE_BILINEAR), in order so chains follow.
    for (Op& op : body) {
      if (op.type == OpType::kAveragePool2d || op.type == OpType::kResizeBilinear)
        g.tensors[op.outputs[0]].quant = g.tensors[op.inputs[0]].quant;
    }
    if (options.change_concat_input_ranges) {
      for (const Op& op : body) {
        if (op.type != OpType::kConcatenation) continue;
        const Quantization& target = g.tensors[op.outputs[0]].quant;
        for (int in : op.inputs) {
          // Back through grid-keeping ops to the convolution that sets the range.
          for (int t = in; t >= 0;) {
            g.tensors[t].quant = target;
            const int p = producer[t];
            if (p < 0) break;
            const Op& from = frozen.graph.ops[p];
            if (from.type != OpType::kResizeBilinear && from.type != OpType::kAveragePool2d) break;
            t = from.inputs[0];
          }
        }
      }
    }
  }
  for (const Op& original : body) {
    Op op = original;
    if (quantized && (op.type == OpType::kConv2d || op.type == OpType::kDepthwiseConv2d)) {
      Tensor& weights = g.tensors[op.inputs[1]];
      if (int8) {
        quantize_weights_int8(weights, op.type == OpType::kConv2d ? 0 : 3);
        op.version = op.type == OpType::kConv2d ? 3 : 3;
      } else {
        quantize_weights_uint8(weights, frozen.weight_quantization[op.inputs[1]]);
      }
      quantize_bias(g.tensors[op.inputs[2]], g.tensors[op.inputs[0]].quant.scale[0], weights.quant);
    }
    if (quantized && op.type == OpType::kConcatenation) {
      const Quantization target = g.tensors[op.outputs[0]].quant;
      for (int32_t& in : op.inputs) {
        if (same_quantization(g.tensors[in].quant, target)) continue;
        Tensor requantized = g.tensors[in];
        requantized.name += "/requantized";
        requantized.quant = target;
        g.tensors.push_back(requantized);
        Op q;
        q.type = OpType::kQuantize;
        q.version = int8 ? 2 : 1;
        q.inputs = {in};
        in = static_cast<int32_t>(g.tensors.size()) - 1;
        q.outputs = {in};
        ops.push_back(q);
      }
    }
    if (int8 && op.type != OpType::kConv2d && op.type != OpType::kDepthwiseConv2d) op.version = 2;
    ops.push_back(std::move(op));
  }

  // The end: logits resized to the input size, then ArgMax.
  const int logits = g.outputs[0];
  Tensor resized = g.tensors[logits];
  resized.name = "ResizeBilinear";
  resized.shape = {1, size, size, frozen.num_classes};
  g.tensors.push_back(resized);
  const int resized_index = static_cast<int>(g.tensors.size()) - 1;
  {
    Tensor size_tensor;
    size_tensor.name = "output_size";
    size_tensor.type = DataType::kInt32;
    size_tensor.shape = {2};
    const int32_t values[2] = {size, size};
    size_tensor.data.resize(sizeof values);
    std::memcpy(size_tensor.data.data(), values, sizeof values);
    size_tensor.is_constant = true;
    g.tensors.push_back(size_tensor);
    Op r;
    r.type = OpType::kResizeBilinear;
    r.version = int8 ? 2 : 1;
    r.inputs = {logits, static_cast<int32_t>(g.tensors.size()) - 1};
    r.outputs = {resized_index};
    ResizeBilinearOptions o;
    o.align_corners = true;
    r.options = o;
    ops.push_back(r);
  }
  g.outputs = {resized_index};
  if (options.output == OutputArray::kArgMax) {
    Tensor axis;
    axis.name = "ArgMax/dimension";
    axis.type = DataType::kInt32;
    axis.shape = {};
    const int32_t three = 3;
    axis.data.resize(sizeof three);
    std::memcpy(axis.data.data(), &three, sizeof three);
    axis.is_constant = true;
    g.tensors.push_back(axis);
    const int axis_index = static_cast<int>(g.tensors.size()) - 1;
    Tensor labels;
    labels.name = "ArgMax";
    labels.type = DataType::kInt64;
    labels.shape = {1, size, size};
    g.tensors.push_back(labels);
    Op a;
    a.type = OpType::kArgMax;
    a.version = int8 ? 2 : 1;
    a.inputs = {resized_index, axis_index};
    a.outputs = {static_cast<int32_t>(g.tensors.size()) - 1};
    a.options = ArgMaxOptions{DataType::kInt64};
    ops.push_back(a);
    g.outputs = {a.outputs[0]};
  }
  g.ops = std::move(ops);
  g.inputs = {input};
  g.description = "qseg convert";
  return g;
}

}  // namespace qseg::convert

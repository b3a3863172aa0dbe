// The frozen float graph with ranges -> the deployable (uint8, int8 or float) graph.
#include "convert/convert.h"

#include <cmath>
#include <cstring>

#include "quant/weights.h"

namespace qseg::convert {
namespace {

bool same_quantization(const Quantization& a, const Quantization& b) {
  return a.scale == b.scale && a.zero_point == b.zero_point;
}

Quantization quantization(std::vector<float> scales, std::vector<int64_t> zero_points,
                          int32_t dimension = 0) {
  return Quantization{std::move(scales), std::move(zero_points), dimension, {}, {}};
}

int add_tensor(Graph& g, Tensor t) {
  g.tensors.push_back(std::move(t));
  return static_cast<int>(g.tensors.size()) - 1;
}

int add_int32_constant(Graph& g, std::string name, std::vector<int32_t> shape,
                       const std::vector<int32_t>& values) {
  Tensor t;
  t.name = std::move(name);
  t.type = DataType::kInt32;
  t.shape = std::move(shape);
  t.data.resize(values.size() * sizeof(int32_t));
  std::memcpy(t.data.data(), values.data(), t.data.size());
  t.is_constant = true;
  return add_tensor(g, std::move(t));
}

// What every piece of the conversion needs to know.
struct Conversion {
  Conversion(const FrozenGraph& f, const ConvertOptions& o) : frozen(f), options(o) {}
  const FrozenGraph& frozen;
  const ConvertOptions& options;
  bool quantized = false;
  bool int8 = false;
  DataType activation_type = DataType::kUInt8;
  Graph g;              // the graph being built: the frozen tensors, then the new ones
  std::vector<Op> ops;  // the new graph's ops, in order
};

// Activation quantization from the ranges: TensorFlow's nudged 8-bit grid (int8: the same grid
// with the zero point moved by -128).
Status quantize_activations(Conversion& c) {
  for (size_t i = 0; i < c.g.tensors.size(); ++i) {
    Tensor& t = c.g.tensors[i];
    if (t.is_constant || static_cast<int>(i) == c.g.inputs[0]) continue;
    if (!c.frozen.ranges[i]) {
      return Status::error("tensor " + t.name +
                           " has no activation range: train with quantization "
                           "(--quantize-delay-step) or calibrate (--calibrate)");
    }
    const quant::FakeQuantGrid grid =
        quant::fake_quant_grid(c.frozen.ranges[i]->min, c.frozen.ranges[i]->max, 8, false);
    t.type = c.activation_type;
    t.quant = quantization({grid.scale}, {grid.zero_point - (c.int8 ? 128 : 0)});
  }
  return Status::ok();
}

// The model input as the user feeds it: uint8 pixels ((q - mean) / std) or normalized float32,
// with a QUANTIZE (quantized model) or DEQUANTIZE (float model) op in front when the fed type
// is not the first layer's. Returns the fed tensor.
int add_input(Conversion& c) {
  const int float_input = c.g.inputs[0];
  const Quantization pixel_quant =
      quantization({1.0f / c.options.std}, {static_cast<int64_t>(std::lround(c.options.mean))});
  Op op;
  op.outputs = {float_input};
  if (c.quantized) {
    Tensor& t = c.g.tensors[float_input];
    t.type = c.activation_type;
    t.quant = pixel_quant;
    if (c.int8) t.quant.zero_point[0] -= 128;
    if (c.options.uint8_input && !c.int8) return float_input;
    // A QUANTIZE op in front: from float32, or from uint8 pixels to int8.
    Tensor feed = t;
    feed.name = std::string(t.name) + "_feed";
    if (c.options.uint8_input) {
      feed.type = DataType::kUInt8;
      feed.quant = pixel_quant;
    } else {
      feed.type = DataType::kFloat32;
      feed.quant = Quantization{};
    }
    op.type = OpType::kQuantize;
    op.version = c.int8 ? 2 : 1;
    op.inputs = {add_tensor(c.g, std::move(feed))};
  } else {
    if (!c.options.uint8_input) return float_input;
    Tensor feed = c.g.tensors[float_input];
    feed.name += "_uint8";
    feed.type = DataType::kUInt8;
    feed.quant = pixel_quant;
    op.type = OpType::kDequantize;
    op.inputs = {add_tensor(c.g, std::move(feed))};
  }
  c.ops.push_back(op);
  return op.inputs[0];
}

// Ops that keep their input's grid (TFLite requires it for uint8 AVERAGE_POOL_2D and
// RESIZE_BILINEAR), in order so chains follow.
void keep_input_grids(Conversion& c) {
  for (const Op& op : c.frozen.graph.ops) {
    if (op.type == OpType::kAveragePool2d || op.type == OpType::kResizeBilinear)
      c.g.tensors[op.outputs[0]].quant = c.g.tensors[op.inputs[0]].quant;
  }
}

// --change-concat-input-ranges: each concat input, and back through grid-keeping ops the
// convolution that sets its range, takes the concat's grid.
void change_concat_input_ranges(Conversion& c) {
  const std::vector<Op>& body = c.frozen.graph.ops;
  std::vector<int> producer(c.g.tensors.size(), -1);
  for (size_t i = 0; i < body.size(); ++i) producer[body[i].outputs[0]] = static_cast<int>(i);
  for (const Op& op : body) {
    if (op.type != OpType::kConcatenation) continue;
    const Quantization& target = c.g.tensors[op.outputs[0]].quant;
    for (int in : op.inputs) {
      for (int t = in; t >= 0;) {
        c.g.tensors[t].quant = target;
        const int p = producer[t];
        if (p < 0) break;
        const Op& from = body[p];
        if (from.type != OpType::kResizeBilinear && from.type != OpType::kAveragePool2d) break;
        t = from.inputs[0];
      }
    }
  }
}

// A convolution's float weights and bias become uint8 per tensor (on the grid training used, or
// the imported file's) or int8 per channel, and int32 biases on input scale * weight scale.
void quantize_convolution(Conversion& c, Op& op) {
  Tensor& weights = c.g.tensors[op.inputs[1]];
  const float* w = weights.data_as<float>();
  const int64_t n = weights.num_elements();
  if (c.int8) {
    const int dimension = op.type == OpType::kConv2d ? 0 : 3;
    int64_t inner = 1;
    for (size_t d = dimension + 1; d < weights.shape.size(); ++d) inner *= weights.shape[d];
    quant::Int8PerChannelWeights q =
        quant::quantize_weights_int8_per_channel(w, n, weights.shape[dimension], inner);
    weights.type = DataType::kInt8;
    weights.data.assign(reinterpret_cast<const uint8_t*>(q.codes.data()),
                        reinterpret_cast<const uint8_t*>(q.codes.data()) + q.codes.size());
    weights.quant = quantization(q.scales, std::vector<int64_t>(q.scales.size(), 0), dimension);
    op.version = 3;
  } else {
    const std::optional<std::pair<float, int32_t>>& given =
        c.frozen.weight_quantization[op.inputs[1]];
    quant::Uint8Weights q = given ? quant::quantize_weights_uint8(w, n, given->first, given->second)
                                  : quant::quantize_weights_uint8(w, n);
    weights.type = DataType::kUInt8;
    weights.data = std::move(q.codes);
    weights.quant = quantization({q.scale}, {q.zero_point});
  }
  Tensor& bias = c.g.tensors[op.inputs[2]];
  const quant::Int32Bias q =
      quant::quantize_bias(bias.data_as<float>(), bias.num_elements(),
                           c.g.tensors[op.inputs[0]].quant.scale[0], weights.quant.scale);
  bias.type = DataType::kInt32;
  bias.data.resize(q.values.size() * sizeof(int32_t));
  std::memcpy(bias.data.data(), q.values.data(), bias.data.size());
  bias.quant = quantization(q.scales, std::vector<int64_t>(q.scales.size(), 0));
}

// A QUANTIZE op in front of each concat input whose grid is not the concat's.
void requantize_concat_inputs(Conversion& c, Op& op) {
  const Quantization target = c.g.tensors[op.outputs[0]].quant;
  for (int32_t& in : op.inputs) {
    if (same_quantization(c.g.tensors[in].quant, target)) continue;
    Tensor requantized = c.g.tensors[in];
    requantized.name += "/requantized";
    requantized.quant = target;
    Op q;
    q.type = OpType::kQuantize;
    q.version = c.int8 ? 2 : 1;
    q.inputs = {in};
    in = add_tensor(c.g, std::move(requantized));
    q.outputs = {in};
    c.ops.push_back(q);
  }
}

// The frozen graph's ops, with quantized constants and requantized concat inputs.
void add_body(Conversion& c) {
  for (const Op& original : c.frozen.graph.ops) {
    Op op = original;
    const bool convolution = op.type == OpType::kConv2d || op.type == OpType::kDepthwiseConv2d;
    if (c.quantized && convolution) quantize_convolution(c, op);
    if (c.quantized && op.type == OpType::kConcatenation) requantize_concat_inputs(c, op);
    if (c.int8 && !convolution) op.version = 2;
    c.ops.push_back(std::move(op));
  }
}

// The end: the logits resized to the input size (corners aligned), then ArgMax (int64) when
// asked. Returns the output tensor.
int add_output(Conversion& c) {
  const int height = c.frozen.input_height, width = c.frozen.input_width;
  const int logits = c.g.outputs[0];
  Tensor resized = c.g.tensors[logits];
  resized.name = "ResizeBilinear";
  resized.shape = {1, height, width, c.frozen.num_classes};
  const int resized_index = add_tensor(c.g, std::move(resized));
  Op r;
  r.type = OpType::kResizeBilinear;
  r.version = c.int8 ? 2 : 1;
  r.inputs = {logits, add_int32_constant(c.g, "output_size", {2}, {height, width})};
  r.outputs = {resized_index};
  ResizeBilinearOptions o;
  o.align_corners = true;
  r.options = o;
  c.ops.push_back(r);
  if (c.options.output != OutputArray::kArgMax) return resized_index;
  const int axis = add_int32_constant(c.g, "ArgMax/dimension", {}, {3});
  Tensor labels;
  labels.name = "ArgMax";
  labels.type = DataType::kInt64;
  labels.shape = {1, height, width};
  Op a;
  a.type = OpType::kArgMax;
  a.version = c.int8 ? 2 : 1;
  a.inputs = {resized_index, axis};
  a.outputs = {add_tensor(c.g, std::move(labels))};
  a.options = ArgMaxOptions{DataType::kInt64};
  c.ops.push_back(a);
  return a.outputs[0];
}

}  // namespace

Result<Graph> convert_graph(const FrozenGraph& frozen, const ConvertOptions& options) {
  if (!(options.std > 0) || !std::isfinite(options.mean))
    return Status::error("--std must be positive and --mean finite");
  Conversion c(frozen, options);
  c.quantized = options.inference_type != InferenceType::kFloat;
  c.int8 = options.inference_type == InferenceType::kInt8PerChannel;
  c.activation_type = c.int8 ? DataType::kInt8 : DataType::kUInt8;
  c.g = frozen.graph;
  if (c.quantized) QSEG_RETURN_IF_ERROR(quantize_activations(c));
  const int input = add_input(c);
  if (c.quantized) {
    keep_input_grids(c);
    if (options.change_concat_input_ranges) change_concat_input_ranges(c);
  }
  add_body(c);
  const int output = add_output(c);
  c.g.ops = std::move(c.ops);
  c.g.inputs = {input};
  c.g.outputs = {output};
  c.g.description = "qseg convert";
  return std::move(c.g);
}

}  // namespace qseg::convert

#include "op_seeds.h"

#include <cstdint>
#include <cstring>
#include <utility>

namespace qseg::fuzz {
namespace {

// The three ways qseg stores activations: uint8 and int8 (quantized) and float.
enum class Kind { kUint8, kInt8, kFloat };

const char* kind_name(Kind kind) {
  switch (kind) {
    case Kind::kUint8:
      return "uint8";
    case Kind::kInt8:
      return "int8";
    case Kind::kFloat:
      break;
  }
  return "float";
}

DataType activation_type(Kind kind) {
  switch (kind) {
    case Kind::kUint8:
      return DataType::kUInt8;
    case Kind::kInt8:
      return DataType::kInt8;
    case Kind::kFloat:
      break;
  }
  return DataType::kFloat32;
}

Quantization per_tensor(float scale, int64_t zero_point) {
  Quantization q;
  q.scale = {scale};
  q.zero_point = {zero_point};
  return q;
}

template <typename T>
std::vector<uint8_t> bytes_of(const std::vector<T>& values) {
  std::vector<uint8_t> bytes(values.size() * sizeof(T));
  if (!bytes.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

int64_t count(const std::vector<int32_t>& shape) {
  int64_t n = 1;
  for (int32_t d : shape) n *= d;
  return n;
}

// Builds one small graph; tensors are added in order and ops refer to their indices.
class Builder {
 public:
  explicit Builder(Kind kind) : kind_(kind) {}

  // An activation of the builder's type. `scale` distinguishes ranges (CONCATENATION, ADD).
  int activation(std::vector<int32_t> shape, float scale = 0.05f) {
    Quantization q;
    if (kind_ == Kind::kUint8) q = per_tensor(scale, 128);
    if (kind_ == Kind::kInt8) q = per_tensor(scale, -3);
    return add(activation_type(kind_), std::move(shape), std::move(q), {});
  }

  // Weights [rows..., channels] with a deterministic pattern; per-channel scales along `axis`
  // for int8 (as the converter writes them), one scale otherwise.
  int weights(std::vector<int32_t> shape, int axis) {
    const int64_t n = count(shape);
    if (kind_ == Kind::kFloat) {
      std::vector<float> v(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) v[i] = static_cast<float>((i * 7) % 11 - 5) / 8;
      return add(DataType::kFloat32, std::move(shape), {}, bytes_of(v));
    }
    std::vector<uint8_t> v(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 37 + 5);
    Quantization q;
    if (kind_ == Kind::kUint8) {
      q = per_tensor(0.02f, 120);
    } else {
      const int channels = shape[axis];
      for (int c = 0; c < channels; ++c) {
        q.scale.push_back(0.01f + 0.002f * c);
        q.zero_point.push_back(0);
      }
      q.quantized_dimension = axis;
    }
    return add(activation_type(kind_), std::move(shape), std::move(q), std::move(v));
  }

  // The bias of a convolution over `channels` outputs whose input has scale 0.05.
  int bias(int channels, const Tensor& filter) {
    const std::vector<int32_t> shape = {channels};
    if (kind_ == Kind::kFloat) {
      std::vector<float> v(static_cast<size_t>(channels));
      for (int c = 0; c < channels; ++c) v[c] = 0.25f * static_cast<float>(c % 3 - 1);
      return add(DataType::kFloat32, shape, {}, bytes_of(v));
    }
    std::vector<int32_t> v(static_cast<size_t>(channels));
    Quantization q;
    for (int c = 0; c < channels; ++c) {
      v[c] = (c % 3 - 1) * 200;
      if (c < static_cast<int>(filter.quant.scale.size())) {
        q.scale.push_back(0.05f * filter.quant.scale[c]);
        q.zero_point.push_back(0);
      }
    }
    q.quantized_dimension = 0;
    return add(DataType::kInt32, shape, std::move(q), bytes_of(v));
  }

  int int32_constant(std::vector<int32_t> values) {
    const int32_t n = static_cast<int32_t>(values.size());
    return add(DataType::kInt32, {n}, {}, bytes_of(values));
  }

  int add(DataType type, std::vector<int32_t> shape, Quantization quant,
          std::vector<uint8_t> data) {
    Tensor t;
    t.name = "t" + std::to_string(graph_.tensors.size());
    t.type = type;
    t.shape = std::move(shape);
    t.quant = std::move(quant);
    t.is_constant = !data.empty();
    t.data = std::move(data);
    graph_.tensors.push_back(std::move(t));
    return static_cast<int>(graph_.tensors.size()) - 1;
  }

  void op(OpType type, std::vector<int32_t> inputs, std::vector<int32_t> outputs,
          OpOptions options = {}) {
    Op op;
    op.type = type;
    op.inputs = std::move(inputs);
    op.outputs = std::move(outputs);
    op.options = std::move(options);
    graph_.ops.push_back(std::move(op));
  }

  const Tensor& tensor(int index) const { return graph_.tensors[index]; }

  Graph finish(std::vector<int32_t> inputs, std::vector<int32_t> outputs) {
    graph_.description = "fuzz seed";
    graph_.inputs = std::move(inputs);
    graph_.outputs = std::move(outputs);
    return std::move(graph_);
  }

 private:
  Kind kind_;
  Graph graph_;
};

Graph conv_2d(Kind kind) {
  Builder b(kind);
  const int in = b.activation({1, 5, 5, 3});
  const int filter = b.weights({4, 3, 3, 3}, 0);
  const int bias = b.bias(4, b.tensor(filter));
  const int out = b.activation({1, 3, 3, 4}, 0.1f);
  Conv2dOptions options;
  options.stride_w = options.stride_h = 2;
  options.activation = Activation::kRelu6;
  b.op(OpType::kConv2d, {in, filter, bias}, {out}, options);
  return b.finish({in}, {out});
}

Graph depthwise_conv_2d(Kind kind) {
  Builder b(kind);
  const int in = b.activation({1, 5, 5, 3});
  const int filter = b.weights({1, 3, 3, 6}, 3);
  const int bias = b.bias(6, b.tensor(filter));
  const int out = b.activation({1, 5, 5, 6}, 0.1f);
  DepthwiseConv2dOptions options;
  options.dilation_w = options.dilation_h = 2;
  options.depth_multiplier = 2;
  options.activation = Activation::kRelu;
  b.op(OpType::kDepthwiseConv2d, {in, filter, bias}, {out}, options);
  return b.finish({in}, {out});
}

Graph average_pool_2d(Kind kind) {
  Builder b(kind);
  const int in = b.activation({1, 5, 5, 3});
  const int out = b.activation({1, 3, 3, 3});
  Pool2dOptions options;
  options.padding = Padding::kSame;
  options.filter_w = options.filter_h = 2;
  options.stride_w = options.stride_h = 2;
  b.op(OpType::kAveragePool2d, {in}, {out}, options);
  return b.finish({in}, {out});
}

Graph add(Kind kind) {
  Builder b(kind);
  const int in1 = b.activation({1, 4, 4, 3});
  const int in2 = b.activation({1, 4, 4, 3}, 0.08f);
  const int out = b.activation({1, 4, 4, 3}, 0.1f);
  AddOptions options;
  options.activation = Activation::kReluN1To1;
  b.op(OpType::kAdd, {in1, in2}, {out}, options);
  return b.finish({in1, in2}, {out});
}

Graph concatenation(Kind kind) {
  Builder b(kind);
  const int in1 = b.activation({1, 2, 2, 3});
  const int in2 = b.activation({1, 2, 2, 2}, 0.08f);
  const int out = b.activation({1, 2, 2, 5}, 0.1f);
  ConcatenationOptions options;
  options.axis = -1;
  b.op(OpType::kConcatenation, {in1, in2}, {out}, options);
  return b.finish({in1, in2}, {out});
}

Graph resize_bilinear(Kind kind, bool half_pixel) {
  Builder b(kind);
  const int in = b.activation({1, 3, 3, 2});
  const int size = b.int32_constant({5, 5});
  const int out = b.activation({1, 5, 5, 2});
  ResizeBilinearOptions options;
  options.align_corners = !half_pixel;
  options.half_pixel_centers = half_pixel;
  b.op(OpType::kResizeBilinear, {in, size}, {out}, options);
  return b.finish({in}, {out});
}

// RESIZE_BILINEAR read only by ARG_MAX over channels: the optimized kernels fuse the two.
Graph resize_arg_max(Kind kind) {
  Builder b(kind);
  const int in = b.activation({1, 3, 3, 4});
  const int size = b.int32_constant({9, 9});
  const int resized = b.activation({1, 9, 9, 4});
  const int axis = b.int32_constant({3});
  const int out = b.add(DataType::kInt64, {1, 9, 9}, {}, {});
  b.op(OpType::kResizeBilinear, {in, size}, {resized}, ResizeBilinearOptions{});
  b.op(OpType::kArgMax, {resized, axis}, {out}, ArgMaxOptions{DataType::kInt64});
  return b.finish({in}, {out});
}

// A MobileNetV2 inverted residual block: 1x1 expansion, 3x3 depthwise, 1x1 projection (which
// the optimized kernels fuse into one kernel when asked), then the residual ADD.
Graph inverted_residual(Kind kind) {
  Builder b(kind);
  const int in = b.activation({1, 6, 6, 4});
  const int expand_filter = b.weights({8, 1, 1, 4}, 0);
  const int expand_bias = b.bias(8, b.tensor(expand_filter));
  const int expanded = b.activation({1, 6, 6, 8});
  Conv2dOptions conv;
  conv.activation = Activation::kRelu6;
  b.op(OpType::kConv2d, {in, expand_filter, expand_bias}, {expanded}, conv);
  const int dw_filter = b.weights({1, 3, 3, 8}, 3);
  const int dw_bias = b.bias(8, b.tensor(dw_filter));
  const int filtered = b.activation({1, 6, 6, 8});
  DepthwiseConv2dOptions depthwise;
  depthwise.activation = Activation::kRelu6;
  b.op(OpType::kDepthwiseConv2d, {expanded, dw_filter, dw_bias}, {filtered}, depthwise);
  const int project_filter = b.weights({4, 1, 1, 8}, 0);
  const int project_bias = b.bias(4, b.tensor(project_filter));
  const int projected = b.activation({1, 6, 6, 4}, 0.07f);
  b.op(OpType::kConv2d, {filtered, project_filter, project_bias}, {projected}, Conv2dOptions{});
  const int out = b.activation({1, 6, 6, 4}, 0.1f);
  b.op(OpType::kAdd, {in, projected}, {out}, AddOptions{});
  return b.finish({in}, {out});
}

Graph reshape(Kind kind) {
  Builder b(kind);
  const int in = b.activation({1, 2, 2, 3});
  const int shape = b.int32_constant({1, 12});
  const int out = b.activation({1, 12});
  ReshapeOptions options;
  options.new_shape = {1, 12};
  b.op(OpType::kReshape, {in, shape}, {out}, options);
  return b.finish({in}, {out});
}

Graph arg_max(Kind kind) {
  Builder b(kind);
  const int in = b.activation({1, 3, 3, 4});
  const int axis = b.int32_constant({3});
  const int out = b.add(DataType::kInt32, {1, 3, 3}, {}, {});
  b.op(OpType::kArgMax, {in, axis}, {out}, ArgMaxOptions{DataType::kInt32});
  return b.finish({in}, {out});
}

// QUANTIZE from float, or requantizing from the other 8-bit type; DEQUANTIZE back to float.
Graph quantize(Kind kind) {
  Builder from(kind == Kind::kUint8 ? Kind::kFloat : Kind::kUint8);
  const int in = from.activation({1, 2, 2, 3});
  const DataType type = kind == Kind::kUint8 ? DataType::kUInt8 : DataType::kInt8;
  const int out =
      from.add(type, {1, 2, 2, 3}, per_tensor(0.03f, kind == Kind::kUint8 ? 100 : 5), {});
  from.op(OpType::kQuantize, {in}, {out});
  return from.finish({in}, {out});
}

Graph dequantize(Kind kind) {
  Builder b(kind);
  const int in = b.activation({1, 2, 2, 3});
  const int out = b.add(DataType::kFloat32, {1, 2, 2, 3}, {}, {});
  b.op(OpType::kDequantize, {in}, {out});
  return b.finish({in}, {out});
}

Graph tile(Kind kind) {
  Builder b(kind);
  const int in = b.activation({1, 1, 1, 3});
  const int multiples = b.int32_constant({1, 3, 2, 1});
  const int out = b.activation({1, 3, 2, 3});
  b.op(OpType::kTile, {in, multiples}, {out});
  return b.finish({in}, {out});
}

// PAD, or PADV2 with a constant pad value of the activation type.
Graph pad(Kind kind, bool v2) {
  Builder b(kind);
  const int in = b.activation({1, 2, 3, 2});
  const int paddings =
      b.add(DataType::kInt32, {4, 2}, {}, bytes_of(std::vector<int32_t>{0, 0, 1, 2, 0, 1, 1, 0}));
  const int out = b.activation({1, 5, 4, 3});
  if (!v2) {
    b.op(OpType::kPad, {in, paddings}, {out});
    return b.finish({in}, {out});
  }
  const Tensor& input = b.tensor(in);
  std::vector<uint8_t> value(data_type_size(input.type), 0);
  value[data_type_size(input.type) - 1] = kind == Kind::kFloat ? 0x3F : 7;  // 0.5f, or 7
  const int constant = b.add(input.type, {}, input.quant, value);
  b.op(OpType::kPadV2, {in, paddings, constant}, {out});
  return b.finish({in}, {out});
}

// SPACE_TO_BATCH_ND -> BATCH_TO_SPACE_ND: an atrous convolution's wrapping without the
// convolution.
Graph space_batch(Kind kind) {
  Builder b(kind);
  const int in = b.activation({1, 3, 3, 2});
  const int block = b.int32_constant({2, 2});
  const int paddings =
      b.add(DataType::kInt32, {2, 2}, {}, bytes_of(std::vector<int32_t>{1, 0, 0, 1}));
  const int batched = b.activation({4, 2, 2, 2});
  b.op(OpType::kSpaceToBatchNd, {in, block, paddings}, {batched});
  const int crops = b.add(DataType::kInt32, {2, 2}, {}, bytes_of(std::vector<int32_t>{1, 0, 0, 1}));
  const int out = b.activation({1, 3, 3, 2});
  b.op(OpType::kBatchToSpaceNd, {batched, block, crops}, {out});
  return b.finish({in}, {out});
}

Graph resize_nearest_neighbor(Kind kind, bool half_pixel) {
  Builder b(kind);
  const int in = b.activation({1, 3, 3, 2});
  const int size = b.int32_constant({5, 7});
  const int out = b.activation({1, 5, 7, 2});
  ResizeNearestNeighborOptions options;
  options.align_corners = !half_pixel;
  options.half_pixel_centers = half_pixel;
  b.op(OpType::kResizeNearestNeighbor, {in, size}, {out}, options);
  return b.finish({in}, {out});
}

// CAST of the activation type to int32 (float to int32 for float).
Graph cast(Kind kind) {
  Builder b(kind);
  const int in = b.activation({1, 2, 2, 3});
  const int out = b.add(DataType::kInt32, {1, 2, 2, 3}, {}, {});
  b.op(OpType::kCast, {in}, {out});
  return b.finish({in}, {out});
}

// MEAN over H and W with keep_dims (squeeze-excite's pool), and over channels without.
Graph mean(Kind kind, bool spatial) {
  Builder b(kind);
  const int in = b.activation({1, 3, 4, 5});
  const int axes = spatial ? b.int32_constant({1, 2}) : b.int32_constant({-1});
  const int out = spatial ? b.activation({1, 1, 1, 5}, 0.04f) : b.activation({1, 3, 4}, 0.04f);
  b.op(OpType::kMean, {in, axes}, {out}, MeanOptions{spatial});
  return b.finish({in}, {out});
}

// MUL of [1,3,3,4] by a per-channel [1,1,1,4] and SUB of two [1,3,3,4]: two graph inputs each.
Graph mul(Kind kind) {
  Builder b(kind);
  const int in1 = b.activation({1, 3, 3, 4});
  const int in2 = b.activation({1, 1, 1, 4}, 0.02f);
  const int out = b.activation({1, 3, 3, 4}, 0.03f);
  b.op(OpType::kMul, {in1, in2}, {out}, MulOptions{Activation::kRelu6});
  return b.finish({in1, in2}, {out});
}

Graph sub(Kind kind) {
  Builder b(kind);
  const int in1 = b.activation({1, 3, 3, 4});
  const int in2 = b.activation({1, 3, 3, 4}, 0.08f);
  const int out = b.activation({1, 3, 3, 4}, 0.1f);
  b.op(OpType::kSub, {in1, in2}, {out}, SubOptions{Activation::kNone});
  return b.finish({in1, in2}, {out});
}

Graph hard_swish(Kind kind) {
  Builder b(kind);
  const int in = b.activation({1, 3, 3, 4});
  const int out = b.activation({1, 3, 3, 4}, 0.04f);
  b.op(OpType::kHardSwish, {in}, {out});
  return b.finish({in}, {out});
}

// LOGISTIC's 8-bit output has scale 1/256 and zero point qmin.
Graph logistic(Kind kind) {
  Builder b(kind);
  const int in = b.activation({1, 3, 3, 4});
  Quantization q;
  if (kind == Kind::kUint8) q = per_tensor(1.0f / 256, 0);
  if (kind == Kind::kInt8) q = per_tensor(1.0f / 256, -128);
  const int out = b.add(activation_type(kind), {1, 3, 3, 4}, q, {});
  b.op(OpType::kLogistic, {in}, {out});
  return b.finish({in}, {out});
}

}  // namespace

std::vector<NamedGraph> op_seed_graphs() {
  std::vector<NamedGraph> out;
  for (Kind kind : {Kind::kUint8, Kind::kInt8, Kind::kFloat}) {
    const std::string suffix = std::string("_") + kind_name(kind);
    out.push_back({"conv_2d" + suffix, conv_2d(kind)});
    out.push_back({"depthwise_conv_2d" + suffix, depthwise_conv_2d(kind)});
    out.push_back({"average_pool_2d" + suffix, average_pool_2d(kind)});
    out.push_back({"add" + suffix, add(kind)});
    out.push_back({"concatenation" + suffix, concatenation(kind)});
    out.push_back({"resize_bilinear" + suffix, resize_bilinear(kind, false)});
    out.push_back({"resize_bilinear_half_pixel" + suffix, resize_bilinear(kind, true)});
    out.push_back({"resize_arg_max" + suffix, resize_arg_max(kind)});
    out.push_back({"inverted_residual" + suffix, inverted_residual(kind)});
    out.push_back({"reshape" + suffix, reshape(kind)});
    out.push_back({"arg_max" + suffix, arg_max(kind)});
    out.push_back({"tile" + suffix, tile(kind)});
    out.push_back({"pad" + suffix, pad(kind, false)});
    out.push_back({"padv2" + suffix, pad(kind, true)});
    out.push_back({"space_batch" + suffix, space_batch(kind)});
    out.push_back({"resize_nearest_neighbor" + suffix, resize_nearest_neighbor(kind, false)});
    out.push_back(
        {"resize_nearest_neighbor_half_pixel" + suffix, resize_nearest_neighbor(kind, true)});
    out.push_back({"cast" + suffix, cast(kind)});
    out.push_back({"mean_spatial" + suffix, mean(kind, true)});
    out.push_back({"mean_channels" + suffix, mean(kind, false)});
    out.push_back({"mul" + suffix, mul(kind)});
    out.push_back({"sub" + suffix, sub(kind)});
    out.push_back({"hard_swish" + suffix, hard_swish(kind)});
    out.push_back({"logistic" + suffix, logistic(kind)});
    if (kind != Kind::kFloat) {
      out.push_back({"quantize_to" + suffix, quantize(kind)});
      out.push_back({"dequantize" + suffix, dequantize(kind)});
    }
  }
  return out;
}

}  // namespace qseg::fuzz

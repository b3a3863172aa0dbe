// Small graphs of one op each (and their inputs) for the ONNX export tests: odd, non-square shapes,
// random constants and grids, every option the export maps (padding, strides, dilation, depth
// multiplier, fused activations, per-channel int8 weights, resize flags, ...).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "qseg/graph.h"
#include "test_util.h"
#include "tiny_model.h"

namespace qseg::test {

// Deterministic pseudo-random bytes (xorshift32).
inline std::vector<uint8_t> random_bytes(size_t n, uint32_t seed) {
  std::vector<uint8_t> out(n);
  uint32_t s = seed * 2654435761u + 1;
  for (uint8_t& b : out) {
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    b = static_cast<uint8_t>(s >> 7);
  }
  return out;
}

inline std::vector<uint8_t> int32_bytes(const std::vector<int32_t>& values) {
  std::vector<uint8_t> out(values.size() * 4);
  std::memcpy(out.data(), values.data(), out.size());
  return out;
}

inline std::vector<uint8_t> float_bytes(const std::vector<float>& values) {
  std::vector<uint8_t> out(values.size() * 4);
  std::memcpy(out.data(), values.data(), out.size());
  return out;
}

// Random floats in [-1, 1] as bytes.
inline std::vector<uint8_t> random_float_bytes(size_t n, uint32_t seed) {
  const std::vector<uint8_t> r = random_bytes(n, seed);
  std::vector<float> f(n);
  for (size_t i = 0; i < n; ++i) f[i] = static_cast<float>(r[i]) / 127.5f - 1.0f;
  return float_bytes(f);
}

class GraphMaker {
 public:
  int32_t add(Tensor t) {
    graph.tensors.push_back(std::move(t));
    return static_cast<int32_t>(graph.tensors.size() - 1);
  }
  int32_t input(const std::string& name, DataType type, std::vector<int32_t> shape, float scale = 0,
                int64_t zero_point = 0) {
    const int32_t t = add(make_tensor(name, type, std::move(shape), scale, zero_point));
    graph.inputs.push_back(t);
    return t;
  }
  int32_t activation(const std::string& name, DataType type, std::vector<int32_t> shape,
                     float scale = 0, int64_t zero_point = 0) {
    return add(make_tensor(name, type, std::move(shape), scale, zero_point));
  }
  int32_t constant(const std::string& name, DataType type, std::vector<int32_t> shape,
                   std::vector<uint8_t> data, float scale = 0, int64_t zero_point = 0) {
    Tensor t = make_tensor(name, type, std::move(shape), scale, zero_point);
    t.data = std::move(data);
    t.is_constant = true;
    return add(std::move(t));
  }
  void op(OpType type, std::vector<int32_t> inputs, std::vector<int32_t> outputs,
          OpOptions options) {
    Op o;
    o.type = type;
    o.inputs = std::move(inputs);
    o.outputs = std::move(outputs);
    o.options = std::move(options);
    graph.ops.push_back(std::move(o));
  }
  Graph done(std::vector<int32_t> outputs) {
    graph.outputs = std::move(outputs);
    return graph;
  }

  Graph graph;
};

// The bytes of a random input for graph input 0.
inline std::vector<uint8_t> random_input(const Graph& g, uint32_t seed) {
  const Tensor& t = g.tensors[g.inputs[0]];
  if (t.type == DataType::kFloat32)
    return random_float_bytes(static_cast<size_t>(t.num_elements()), seed);
  return random_bytes(static_cast<size_t>(t.byte_size()), seed);
}

struct ConvCase {
  bool depthwise = false;
  DataType type = DataType::kUInt8;  // uint8 (per-tensor weights), int8 (per-channel) or float32
  Activation activation = Activation::kNone;
  Padding padding = Padding::kSame;
  int stride = 1, dilation = 1, kernel = 3, multiplier = 1;
  int height = 9, width = 7, channels = 5, filters = 6;
  float output_scale = 0.05f;
  int64_t output_zero_point = 10;
};

// input [1, H, W, C] -> CONV_2D / DEPTHWISE_CONV_2D -> output.
inline Graph conv_graph(const ConvCase& c, uint32_t seed) {
  GraphMaker m;
  const bool q = c.type != DataType::kFloat32;
  const bool int8 = c.type == DataType::kInt8;
  const int64_t in_zp = int8 ? -7 : 121;
  const float in_scale = 0.03f;
  const int32_t x =
      m.input("x", c.type, {1, c.height, c.width, c.channels}, q ? in_scale : 0, q ? in_zp : 0);
  const int out_channels = c.depthwise ? c.channels * c.multiplier : c.filters;
  const std::vector<int32_t> wshape =
      c.depthwise ? std::vector<int32_t>{1, c.kernel, c.kernel, out_channels}
                  : std::vector<int32_t>{out_channels, c.kernel, c.kernel, c.channels};
  int64_t elements = 1;
  for (int32_t d : wshape) elements *= d;
  int32_t w, b;
  std::vector<float> wscales;
  if (!q) {
    w = m.constant("w", DataType::kFloat32, wshape, random_float_bytes(elements, seed + 1));
    b = m.constant("b", DataType::kFloat32, {out_channels},
                   random_float_bytes(out_channels, seed + 2));
  } else {
    Tensor wt = make_tensor("w", c.type, wshape);
    wt.data = random_bytes(static_cast<size_t>(elements), seed + 1);
    wt.is_constant = true;
    if (int8) {  // TFLite's per-channel scheme: symmetric, [-127, 127], one scale per filter
      for (uint8_t& v : wt.data)
        if (v == 0x80) v = 0x81;
      for (int k = 0; k < out_channels; ++k)
        wscales.push_back(0.002f + 0.001f * static_cast<float>(k));
      wt.quant.scale = wscales;
      wt.quant.zero_point.assign(out_channels, 0);
      wt.quant.quantized_dimension = c.depthwise ? 3 : 0;
    } else {
      wscales = {0.004f};
      wt.quant.scale = wscales;
      wt.quant.zero_point = {131};
    }
    w = m.add(std::move(wt));
    std::vector<int32_t> bias(out_channels);
    const std::vector<uint8_t> r = random_bytes(out_channels, seed + 2);
    for (int k = 0; k < out_channels; ++k) bias[k] = (static_cast<int32_t>(r[k]) - 128) * 40;
    Tensor bt = make_tensor("b", DataType::kInt32, {out_channels});
    bt.data = int32_bytes(bias);
    bt.is_constant = true;
    for (float s : wscales) bt.quant.scale.push_back(in_scale * s);
    bt.quant.zero_point.assign(bt.quant.scale.size(), 0);
    b = m.add(std::move(bt));
  }
  const int effective = (c.kernel - 1) * c.dilation + 1;
  auto out_size = [&](int size) {
    return c.padding == Padding::kSame ? (size + c.stride - 1) / c.stride
                                       : (size - effective + c.stride) / c.stride;
  };
  const int64_t out_zp = int8 ? c.output_zero_point - 128 : c.output_zero_point;
  const int32_t y =
      m.activation("y", c.type, {1, out_size(c.height), out_size(c.width), out_channels},
                   q ? c.output_scale : 0, q ? out_zp : 0);
  if (c.depthwise) {
    DepthwiseConv2dOptions o;
    o.padding = c.padding;
    o.stride_h = o.stride_w = c.stride;
    o.dilation_h = o.dilation_w = c.dilation;
    o.depth_multiplier = c.multiplier;
    o.activation = c.activation;
    m.op(OpType::kDepthwiseConv2d, {x, w, b}, {y}, o);
  } else {
    Conv2dOptions o;
    o.padding = c.padding;
    o.stride_h = o.stride_w = c.stride;
    o.dilation_h = o.dilation_w = c.dilation;
    o.activation = c.activation;
    m.op(OpType::kConv2d, {x, w, b}, {y}, o);
  }
  return m.done({y});
}

// input [1, 6, 5, 4] uint8 + a constant of the same shape (another grid) -> ADD -> output.
inline Graph add_graph(Activation activation, uint32_t seed) {
  GraphMaker m;
  const int32_t x = m.input("x", DataType::kUInt8, {1, 6, 5, 4}, 0.04f, 120);
  const int32_t k =
      m.constant("k", DataType::kUInt8, {1, 6, 5, 4}, random_bytes(120, seed), 0.03f, 90);
  const int32_t y = m.activation("y", DataType::kUInt8, {1, 6, 5, 4}, 0.06f, 100);
  m.op(OpType::kAdd, {x, k}, {y}, AddOptions{activation});
  return m.done({y});
}

// input [1, 5, 7, 3] uint8 and a constant [1, 5, 7, 2] on other grids -> CONCATENATION (axis 3).
inline Graph concat_graph(uint32_t seed) {
  GraphMaker m;
  const int32_t x = m.input("x", DataType::kUInt8, {1, 5, 7, 3}, 0.05f, 128);
  const int32_t k =
      m.constant("k", DataType::kUInt8, {1, 5, 7, 2}, random_bytes(70, seed), 0.02f, 3);
  const int32_t y = m.activation("y", DataType::kUInt8, {1, 5, 7, 5}, 0.06f, 110);
  m.op(OpType::kConcatenation, {x, k}, {y}, ConcatenationOptions{-1, Activation::kNone});
  return m.done({y});
}

// input [1, 9, 8, 6] uint8 -> AVERAGE_POOL_2D (3x3 stride 2 SAME, or the whole input VALID).
inline Graph average_pool_graph(bool global) {
  GraphMaker m;
  const int32_t x = m.input("x", DataType::kUInt8, {1, 9, 8, 6}, 0.05f, 100);
  Pool2dOptions o;
  if (global) {
    o.padding = Padding::kValid;
    o.filter_h = 9;
    o.filter_w = 8;
  } else {
    o.padding = Padding::kSame;
    o.filter_h = o.filter_w = 3;
    o.stride_h = o.stride_w = 2;
  }
  const int32_t y = m.activation(
      "y", DataType::kUInt8,
      global ? std::vector<int32_t>{1, 1, 1, 6} : std::vector<int32_t>{1, 5, 4, 6}, 0.05f, 100);
  m.op(OpType::kAveragePool2d, {x}, {y}, o);
  return m.done({y});
}

// input [1, 5, 4, 3] (uint8 or float) -> RESIZE_BILINEAR to height x width (13 x 9: steps of 1/3
// with corners aligned, inexact in float; 17 x 13: steps of 1/4, exact).
inline Graph resize_graph(bool align_corners, bool half_pixel_centers, DataType type,
                          int height = 13, int width = 9) {
  GraphMaker m;
  const bool q = type != DataType::kFloat32;
  const int32_t x = m.input("x", type, {1, 5, 4, 3}, q ? 0.05f : 0, q ? 77 : 0);
  const int32_t size = m.constant("size", DataType::kInt32, {2}, int32_bytes({height, width}));
  const int32_t y = m.activation("y", type, {1, height, width, 3}, q ? 0.05f : 0, q ? 77 : 0);
  m.op(OpType::kResizeBilinear, {x, size}, {y},
       ResizeBilinearOptions{align_corners, half_pixel_centers});
  return m.done({y});
}

// input [1, 7, 6, 5] uint8 -> QUANTIZE to another grid -> RESHAPE [1, 42, 5] -> ... -> ARG_MAX over
// the last axis (int32 labels): data movement and requantization.
inline Graph quantize_reshape_argmax_graph() {
  GraphMaker m;
  const int32_t x = m.input("x", DataType::kUInt8, {1, 7, 6, 5}, 0.05f, 128);
  const int32_t q = m.activation("q", DataType::kUInt8, {1, 7, 6, 5}, 0.07f, 120);
  m.op(OpType::kQuantize, {x}, {q}, std::monostate{});
  const int32_t r = m.activation("r", DataType::kUInt8, {1, 42, 5}, 0.07f, 120);
  m.op(OpType::kReshape, {q}, {r}, ReshapeOptions{{1, 42, 5}});
  const int32_t axis = m.constant("axis", DataType::kInt32, {}, int32_bytes({-1}));
  const int32_t labels = m.activation("labels", DataType::kInt32, {1, 42});
  m.op(OpType::kArgMax, {r, axis}, {labels}, ArgMaxOptions{DataType::kInt32});
  return m.done({labels});
}

}  // namespace qseg::test

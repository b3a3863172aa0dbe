// One function per op: how a .tflite op becomes ONNX nodes (onnx_exporter.h). 8-bit ops are QDQ
// groups (DequantizeLinear -> float op -> QuantizeLinear), float ops plain ONNX ops.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>

#include "onnx/onnx_exporter.h"
#include "quant/quant.h"

namespace qseg::onnx_export {

Status check_float_or_quantized(const Exporter& e, int index, const std::vector<int32_t>& tensors) {
  for (int32_t t : tensors) {
    if (t < 0) continue;
    if (!e.quantized(t) && e.tensor(t).type != DataType::kFloat32)
      return e.op_error(index, "tensor '" + e.tensor(t).name + "' is " +
                                   std::string(data_type_name(e.tensor(t).type)) +
                                   " without quantization; ONNX export maps 8-bit quantized and "
                                   "float32 ops");
  }
  return Status::ok();
}

namespace {

using G = GraphBuilder;

constexpr int64_t kNchwAxisOf[4] = {0, 2, 3, 1};

// The layout element-wise ops run in: NCHW when every tensor is 4-D, else the .tflite's.
Layout elementwise_layout(const Exporter& e, const std::vector<int32_t>& tensors) {
  for (int32_t t : tensors)
    if (t < 0 || e.tensor(t).shape.size() != 4) return Layout::kNative;
  return Layout::kNchw;
}

Status map_add(Exporter& e, int index) {
  const Op& op = e.graph().ops[index];
  const int32_t a = op.inputs[0], b = op.inputs[1], y = op.outputs[0];
  QSEG_RETURN_IF_ERROR(check_float_or_quantized(e, index, {a, b, y}));
  if (e.quantized(y) != e.quantized(a) || e.quantized(y) != e.quantized(b))
    return e.op_error(index, "ONNX export needs its inputs and output all quantized or all float");
  const Layout layout = elementwise_layout(e, {a, b, y});
  const std::string base = e.op_base(op);
  const std::string ra = e.real_value(a, layout, base + "/input_a");
  const std::string rb = e.real_value(b, layout, base + "/input_b");
  const Activation activation = op.options_as<AddOptions>().activation;
  const std::string result = e.result_name(y, activation, layout);
  e.builder().node("Add", {ra, rb}, result);
  e.finish_output(y, result, activation, layout);
  return Status::ok();
}

Status map_concatenation(Exporter& e, int index) {
  const Op& op = e.graph().ops[index];
  const int32_t y = op.outputs[0];
  QSEG_RETURN_IF_ERROR(check_float_or_quantized(e, index, op.inputs));
  QSEG_RETURN_IF_ERROR(check_float_or_quantized(e, index, {y}));
  const auto& options = op.options_as<ConcatenationOptions>();
  const int rank = static_cast<int>(e.tensor(y).shape.size());
  int64_t axis = options.axis < 0 ? options.axis + rank : options.axis;
  if (axis < 0 || axis >= rank) return e.op_error(index, "its axis is out of range");
  std::vector<int32_t> all = op.inputs;
  all.push_back(y);
  const Layout layout = elementwise_layout(e, all);
  if (layout == Layout::kNchw) axis = kNchwAxisOf[axis];
  // Inputs already on the output's grid are concatenated as bytes (ONNX Concat takes any type).
  bool same_grid = e.quantized(y) && options.activation == Activation::kNone;
  for (int32_t t : op.inputs) same_grid = same_grid && e.quantized(t) && e.grid(t) == e.grid(y);
  const std::string base = e.op_base(op);
  std::vector<std::string> inputs;
  for (size_t k = 0; k < op.inputs.size(); ++k) {
    const int32_t t = op.inputs[k];
    if (!e.quantized(y) && e.quantized(t))
      return e.op_error(index,
                        "ONNX export needs its inputs and output all quantized or all float");
    inputs.push_back(same_grid ? e.value(t, layout)
                               : e.real_value(t, layout, base + "/input_" + std::to_string(k)));
  }
  const std::string result =
      same_grid ? e.output_name(y, layout) : e.result_name(y, options.activation, layout);
  G::attribute(e.builder().node("Concat", inputs, result), "axis", axis);
  if (same_grid) {
    e.set_value(y, layout, result);
  } else {
    e.finish_output(y, result, options.activation, layout);
  }
  return Status::ok();
}

Status map_average_pool(Exporter& e, int index) {
  const Op& op = e.graph().ops[index];
  const int32_t x = op.inputs[0], y = op.outputs[0];
  QSEG_RETURN_IF_ERROR(check_float_or_quantized(e, index, {x, y}));
  const std::vector<int32_t>& in = e.tensor(x).shape;
  const std::vector<int32_t>& out = e.tensor(y).shape;
  if (in.size() != 4 || out.size() != 4) return e.op_error(index, "ONNX export needs 4-D tensors");
  const auto& o = op.options_as<Pool2dOptions>();
  const std::string base = e.op_base(op);
  const std::string real = e.real_value(x, Layout::kNchw, base + "/input");
  const std::string result = e.result_name(y, o.activation, Layout::kNchw);
  // A window over the whole input is a global average (what DeepLab's image pooling does).
  if (o.padding == Padding::kValid && o.filter_h == in[1] && o.filter_w == in[2] && out[1] == 1 &&
      out[2] == 1) {
    e.builder().node("GlobalAveragePool", {real}, result);
  } else {
    std::vector<int64_t> pads;
    QSEG_RETURN_IF_ERROR(window_pads(e, index, in, out, o.padding, o.filter_h, o.filter_w,
                                     o.stride_h, o.stride_w, 1, 1, &pads));
    // TFLite averages over the window's pixels inside the input: count_include_pad 0 (default).
    ::onnx::NodeProto* pool = e.builder().node("AveragePool", {real}, result);
    G::attribute(pool, "kernel_shape", std::vector<int64_t>{o.filter_h, o.filter_w});
    G::attribute(pool, "strides", std::vector<int64_t>{o.stride_h, o.stride_w});
    G::attribute(pool, "pads", pads);
  }
  e.finish_output(y, result, o.activation, Layout::kNchw);
  return Status::ok();
}

// Whether every fraction TFLite's interpolation weighs a resize of `in` -> `out` pixels with (its
// float formula) is a multiple of 1/128: then the float interpolation of 8-bit values is exact
// (products on a 2^-14 grid, below 2^8) and equals XNNPACK's 11-bit one before its rounding.
bool interpolation_on_128ths(int32_t in, int32_t out, const ResizeBilinearOptions& o) {
  const float scale = o.align_corners && out > 1
                          ? static_cast<float>(in - 1) / static_cast<float>(out - 1)
                          : static_cast<float>(in) / static_cast<float>(out);
  for (int32_t d = 0; d < out; ++d) {
    const float src = o.half_pixel_centers ? (static_cast<float>(d) + 0.5f) * scale - 0.5f
                                           : static_cast<float>(d) * scale;
    const float fraction = std::max(src - std::max(std::floor(src), 0.0f), 0.0f) * 128.0f;
    if (fraction != std::floor(fraction)) return false;
  }
  return true;
}

// RESIZE_BILINEAR -> Resize (linear) to the output's size; TFLite's flags name the coordinate
// transformation: align_corners, half_pixel_centers (ONNX half_pixel), neither (asymmetric).
// 8-bit resizes whose interpolation is exact in float (the published models': 1/16 steps) are
// written to give XNNPACK's bytes, which round half up: on q - z (DequantizeLinear with scale 1),
// + 2^-16 (a quarter of the interpolation's grid: only exact halves move across), QuantizeLinear
// with scale 1 (half to even). Plain QDQ rounds ties to even: one step off on 1-2% of the
// published models' upsampled logits.
Status map_resize_bilinear(Exporter& e, int index) {
  const Op& op = e.graph().ops[index];
  const int32_t x = op.inputs[0], y = op.outputs[0];
  QSEG_RETURN_IF_ERROR(check_float_or_quantized(e, index, {x, y}));
  const std::vector<int32_t>& in = e.tensor(x).shape;
  const std::vector<int32_t>& out = e.tensor(y).shape;
  if (in.size() != 4 || out.size() != 4) return e.op_error(index, "ONNX export needs 4-D tensors");
  const auto& o = op.options_as<ResizeBilinearOptions>();
  const std::string base = e.op_base(op);
  const bool rounded_up = !e.options().plain_qdq && e.quantized(x) && e.quantized(y) &&
                          e.grid(x) == e.grid(y) && !e.grid(x).per_axis() &&
                          interpolation_on_128ths(in[1], out[1], o) &&
                          interpolation_on_128ths(in[2], out[2], o);
  Grid unit;
  std::string real;
  if (rounded_up) {
    unit = e.grid(x);
    unit.scale = {1.0f};
    real = e.dequantize(e.value(x, Layout::kNchw), unit, base + "/steps");
  } else {
    real = e.real_value(x, Layout::kNchw, base + "/input");
  }
  const std::string sizes = e.builder().int64s(base + "/sizes", {out[0], out[3], out[1], out[2]});
  const std::string result = rounded_up ? e.builder().unique_name(base + "/interpolated")
                                        : e.result_name(y, Activation::kNone, Layout::kNchw);
  ::onnx::NodeProto* resize = e.builder().node("Resize", {real, "", "", sizes}, result);
  G::attribute(resize, "mode", std::string("linear"));
  G::attribute(resize, "coordinate_transformation_mode",
               std::string(o.align_corners        ? "align_corners"
                           : o.half_pixel_centers ? "half_pixel"
                                                  : "asymmetric"));
  if (!rounded_up) {
    e.finish_output(y, result, Activation::kNone, Layout::kNchw);
    return Status::ok();
  }
  const std::string tie_up = e.builder().float_scalar(base + "/tie_up", 1.0f / 65536.0f);
  const std::string sum = e.builder().unique_name(base + "/rounded_up");
  e.builder().node("Add", {result, tie_up}, sum);
  e.set_value(y, Layout::kNchw, e.quantize(sum, unit, e.output_name(y, Layout::kNchw)));
  return Status::ok();
}

// ARG_MAX -> ArgMax (first index on ties, as TFLite) of the dequantized scores; on NCHW when it
// reduces the channels of a 4-D tensor (removing C from NCHW leaves the .tflite's N, H, W).
Status map_arg_max(Exporter& e, int index) {
  const Op& op = e.graph().ops[index];
  const int32_t x = op.inputs[0], axis_tensor = op.inputs[1], y = op.outputs[0];
  QSEG_RETURN_IF_ERROR(check_float_or_quantized(e, index, {x}));
  const Tensor& at = e.tensor(axis_tensor);
  if (!at.is_constant || at.num_elements() != 1 ||
      (at.type != DataType::kInt32 && at.type != DataType::kInt64))
    return e.op_error(index, "ONNX export needs a constant int32 or int64 axis");
  const int rank = static_cast<int>(e.tensor(x).shape.size());
  int64_t axis = at.type == DataType::kInt32 ? at.data_as<int32_t>()[0] : at.data_as<int64_t>()[0];
  if (axis < 0) axis += rank;
  if (axis < 0 || axis >= rank) return e.op_error(index, "its axis is out of range");
  const DataType out_type = op.options_as<ArgMaxOptions>().output_type;
  if (out_type != DataType::kInt64 && out_type != DataType::kInt32)
    return e.op_error(index, "ONNX export writes int64 or int32 labels");
  Layout layout = Layout::kNative;
  if (rank == 4 && axis == 3) {
    layout = Layout::kNchw;
    axis = 1;
  }
  const std::string base = e.op_base(op);
  const std::string real = e.real_value(x, layout, base + "/scores");
  const std::string labels = out_type == DataType::kInt64
                                 ? e.output_name(y, Layout::kNative)
                                 : e.builder().unique_name(base + "/int64");
  ::onnx::NodeProto* arg_max = e.builder().node("ArgMax", {real}, labels);
  G::attribute(arg_max, "axis", axis);
  G::attribute(arg_max, "keepdims", int64_t{0});
  G::attribute(arg_max, "select_last_index", int64_t{0});
  std::string name = labels;
  if (out_type == DataType::kInt32) {
    ::onnx::NodeProto* cast = e.builder().node("Cast", {labels}, e.output_name(y, Layout::kNative));
    G::attribute(cast, "to", int64_t{onnx_element_type(DataType::kInt32)});
    name = cast->output(0);
  }
  e.set_value(y, Layout::kNative, name);
  return Status::ok();
}

// XNNPACK's 8-bit conversion, what TFLite runs for a QUANTIZE between grids of one type (and qseg
// with it, quant::float_convert): (q - z_in) * m / 256 rounded half up, m = round(256 s_in /
// s_out), plus z_out. As QDQ: DequantizeLinear with scale m / 256 (exact: m and q - z_in are
// small integers), + 1/1024 so that QuantizeLinear's round half to even rounds the ties up (the
// sum is exact wherever the result is not saturated), QuantizeLinear with scale 1. Plain
// DequantizeLinear -> QuantizeLinear rounds the real value instead: one step off on 2-5% of the
// image-pooling branch's values of the published models. Empty where XNNPACK would not convert.
std::optional<std::string> xnnpack_conversion(Exporter& e, int32_t x, int32_t y, Layout layout,
                                              const std::string& base) {
  const Tensor& in = e.tensor(x);
  const Tensor& out = e.tensor(y);
  if (in.type != out.type || !in.quant.per_tensor() || !out.quant.per_tensor()) return {};
  const std::optional<quant::FloatConvert> convert = quant::float_convert_params(
      in.quant.scale[0], static_cast<int32_t>(in.quant.zero_point[0]), out.quant.scale[0],
      static_cast<int32_t>(out.quant.zero_point[0]));
  if (!convert) return {};
  Grid scaled = e.grid(x);
  scaled.scale = {static_cast<float>(convert->multiplier) / 256.0f};
  const std::string real = e.dequantize(e.value(x, layout), scaled, base + "/scaled");
  const std::string half_up = e.builder().float_scalar(base + "/tie_up", 1.0f / 1024.0f);
  const std::string sum = e.builder().unique_name(base + "/rounded_up");
  e.builder().node("Add", {real, half_up}, sum);
  Grid unit = e.grid(y);
  unit.scale = {1.0f};
  return e.quantize(sum, unit, e.output_name(y, layout));
}

// QUANTIZE (float -> 8-bit, or 8-bit -> another grid) and DEQUANTIZE, in the layout the input
// already has.
Status map_quantize(Exporter& e, int index, bool quantize) {
  const Op& op = e.graph().ops[index];
  const int32_t x = op.inputs[0], y = op.outputs[0];
  QSEG_RETURN_IF_ERROR(check_float_or_quantized(e, index, {x, y}));
  if (quantize != e.quantized(y) || (!quantize && !e.quantized(x)))
    return e.op_error(index,
                      "ONNX export needs an 8-bit quantized output (QUANTIZE) or input "
                      "(DEQUANTIZE)");
  const Layout layout = e.has_value(x, Layout::kNchw) ? Layout::kNchw : Layout::kNative;
  const std::string base = e.op_base(op);
  if (quantize && e.quantized(x) && !e.options().plain_qdq) {
    if (const auto converted = xnnpack_conversion(e, x, y, layout, base)) {
      e.set_value(y, layout, *converted);
      return Status::ok();
    }
  }
  const std::string real = e.real_value(x, layout, base + "/input");
  if (quantize) {
    e.finish_output(y, real, Activation::kNone, layout);
  } else {
    e.set_value(y, layout, real);
  }
  return Status::ok();
}

// RESHAPE -> Reshape of the .tflite-layout bytes to the output's shape (then a QDQ pair in the
// rare case the output is on another grid).
Status map_reshape(Exporter& e, int index) {
  const Op& op = e.graph().ops[index];
  const int32_t x = op.inputs[0], y = op.outputs[0];
  if (e.quantized(x) != e.quantized(y) || e.tensor(x).type != e.tensor(y).type)
    return e.op_error(index, "ONNX export needs the same type in and out");
  const std::string base = e.op_base(op);
  const std::vector<int32_t>& shape = e.tensor(y).shape;
  const std::string target = e.builder().int64s(base + "/shape", {shape.begin(), shape.end()});
  const bool regrid = e.quantized(y) && !(e.grid(x) == e.grid(y));
  const std::string result =
      regrid ? e.builder().unique_name(base + "/reshaped") : e.output_name(y, Layout::kNative);
  e.builder().node("Reshape", {e.value(x, Layout::kNative), target}, result);
  if (regrid) {
    e.finish_output(y, e.dequantize(result, e.grid(x), base + "/real"), Activation::kNone,
                    Layout::kNative);
  } else {
    e.set_value(y, Layout::kNative, result);
  }
  return Status::ok();
}

}  // namespace

Status map_op(Exporter& e, int index) {
  const Op& op = e.graph().ops[index];
  switch (op.type) {
    case OpType::kConv2d:
      return map_conv(e, index, /*depthwise=*/false);
    case OpType::kDepthwiseConv2d:
      return map_conv(e, index, /*depthwise=*/true);
    case OpType::kAdd:
      return map_add(e, index);
    case OpType::kConcatenation:
      return map_concatenation(e, index);
    case OpType::kAveragePool2d:
      return map_average_pool(e, index);
    case OpType::kResizeBilinear:
      return map_resize_bilinear(e, index);
    case OpType::kArgMax:
      return map_arg_max(e, index);
    case OpType::kQuantize:
      return map_quantize(e, index, /*quantize=*/true);
    case OpType::kDequantize:
      return map_quantize(e, index, /*quantize=*/false);
    case OpType::kReshape:
      return map_reshape(e, index);
    default:
      return e.op_error(index,
                        "ONNX export does not map this op (it maps CONV_2D, DEPTHWISE_CONV_2D, "
                        "ADD, CONCATENATION, AVERAGE_POOL_2D, RESIZE_BILINEAR, ARG_MAX, QUANTIZE, "
                        "DEQUANTIZE and RESHAPE)");
  }
}

}  // namespace qseg::onnx_export

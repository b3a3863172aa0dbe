// CONV_2D and DEPTHWISE_CONV_2D -> Conv (onnx_exporter.h), and the windows every windowed op
// shares: TensorFlow's SAME padding as ONNX pads, filters permuted to ONNX's OIHW.
#include <algorithm>
#include <cstring>

#include "onnx/onnx_exporter.h"

namespace qseg::onnx_export {

using G = GraphBuilder;

// The padding TensorFlow's SAME puts before and after one spatial dimension: the total that
// makes the output ceil(input / stride), the smaller half first.
static void same_padding(int32_t in, int32_t out, int32_t stride, int32_t kernel, int32_t dilation,
                         int64_t* before, int64_t* after) {
  const int64_t effective = static_cast<int64_t>(kernel - 1) * dilation + 1;
  const int64_t total =
      std::max<int64_t>(0, static_cast<int64_t>(out - 1) * stride + effective - in);
  *before = total / 2;
  *after = total - *before;
}

// pads = [top, left, bottom, right] for a 2-D window; an error when the output shape is not what
// ONNX computes from them (the .tflite's shapes must agree with the op's options).
Status window_pads(const Exporter& e, int index, const std::vector<int32_t>& in,
                   const std::vector<int32_t>& out, Padding padding, int32_t kernel_h,
                   int32_t kernel_w, int32_t stride_h, int32_t stride_w, int32_t dilation_h,
                   int32_t dilation_w, std::vector<int64_t>* pads) {
  int64_t top = 0, bottom = 0, left = 0, right = 0;
  if (padding == Padding::kSame) {
    same_padding(in[1], out[1], stride_h, kernel_h, dilation_h, &top, &bottom);
    same_padding(in[2], out[2], stride_w, kernel_w, dilation_w, &left, &right);
  }
  auto onnx_out = [](int64_t size, int64_t pad, int64_t kernel, int64_t stride, int64_t dilation) {
    return (size + pad - ((kernel - 1) * dilation + 1)) / stride + 1;
  };
  if (onnx_out(in[1], top + bottom, kernel_h, stride_h, dilation_h) != out[1] ||
      onnx_out(in[2], left + right, kernel_w, stride_w, dilation_w) != out[2])
    return e.op_error(index, "its output shape does not follow from its input, window and padding");
  *pads = {top, left, bottom, right};
  return Status::ok();
}

// A 4-D constant's bytes permuted: out[i0,i1,i2,i3] = in at the index `order` maps to, where
// order[k] names the input dimension of output dimension k.
static std::vector<uint8_t> permute4(const Tensor& t, const int order[4],
                                     std::vector<int64_t>* dims) {
  const size_t element = data_type_size(t.type);
  const std::vector<int32_t>& s = t.shape;
  int64_t in_stride[4];
  in_stride[3] = 1;
  for (int k = 2; k >= 0; --k) in_stride[k] = in_stride[k + 1] * s[k + 1];
  dims->clear();
  for (int k = 0; k < 4; ++k) dims->push_back(s[order[k]]);
  std::vector<uint8_t> out(t.data.size());
  size_t o = 0;
  for (int64_t a = 0; a < (*dims)[0]; ++a)
    for (int64_t b = 0; b < (*dims)[1]; ++b)
      for (int64_t c = 0; c < (*dims)[2]; ++c)
        for (int64_t d = 0; d < (*dims)[3]; ++d, o += element) {
          const int64_t index[4] = {a, b, c, d};
          int64_t at = 0;
          for (int k = 0; k < 4; ++k) at += index[k] * in_stride[order[k]];
          std::memcpy(&out[o], &t.data[static_cast<size_t>(at) * element], element);
        }
  return out;
}

// CONV_2D (group 1, or grouped when the filters see fewer channels than the input has) and
// DEPTHWISE_CONV_2D (group = input channels): Conv on NCHW with OIHW weights.
Status map_conv(Exporter& e, int index, bool depthwise) {
  const Op& op = e.graph().ops[index];
  const int32_t x = op.inputs[0], w = op.inputs[1];
  const int32_t b = op.inputs.size() > 2 ? op.inputs[2] : kNoTensor;
  const int32_t y = op.outputs[0];
  QSEG_RETURN_IF_ERROR(check_float_or_quantized(e, index, {x, w, y}));
  const Tensor& wt = e.tensor(w);
  const std::vector<int32_t>& in = e.tensor(x).shape;
  const std::vector<int32_t>& out = e.tensor(y).shape;
  if (!wt.is_constant || wt.shape.size() != 4 || in.size() != 4 || out.size() != 4)
    return e.op_error(index, "ONNX export needs 4-D tensors and constant weights");
  if (b >= 0 && !e.tensor(b).is_constant)
    return e.op_error(index, "ONNX export needs a constant bias");
  Padding padding;
  int32_t stride_h, stride_w, dilation_h, dilation_w;
  Activation activation;
  int64_t group = 1;
  // TFLite's filters: CONV_2D [O, H, W, I], DEPTHWISE_CONV_2D [1, H, W, O]; ONNX's [O, I, H, W].
  static constexpr int kConvOrder[4] = {0, 3, 1, 2};
  static constexpr int kDepthwiseOrder[4] = {3, 0, 1, 2};
  if (depthwise) {
    const auto& o = op.options_as<DepthwiseConv2dOptions>();
    padding = o.padding, stride_h = o.stride_h, stride_w = o.stride_w;
    dilation_h = o.dilation_h, dilation_w = o.dilation_w, activation = o.activation;
    group = in[3];
  } else {
    const auto& o = op.options_as<Conv2dOptions>();
    padding = o.padding, stride_h = o.stride_h, stride_w = o.stride_w;
    dilation_h = o.dilation_h, dilation_w = o.dilation_w, activation = o.activation;
    if (wt.shape[3] <= 0 || in[3] % wt.shape[3] != 0)
      return e.op_error(index, "its filters' channels do not divide the input's");
    group = in[3] / wt.shape[3];
  }
  std::vector<int64_t> pads;
  QSEG_RETURN_IF_ERROR(window_pads(e, index, in, out, padding, wt.shape[1], wt.shape[2], stride_h,
                                   stride_w, dilation_h, dilation_w, &pads));
  const std::string base = e.op_base(op);
  GraphBuilder& builder = e.builder();
  std::vector<int64_t> dims;
  std::vector<uint8_t> weights = permute4(wt, depthwise ? kDepthwiseOrder : kConvOrder, &dims);
  const int64_t channels = dims[0];
  const std::string weight_base = wt.name.empty() ? base + "/weights" : wt.name;
  std::vector<std::string> inputs = {e.real_value(x, Layout::kNchw, base + "/input")};
  const bool quantized = e.quantized(y);
  if (quantized) {
    if (!e.quantized(x) || !e.quantized(w))
      return e.op_error(index, "a quantized output needs quantized input and weights");
    Grid wg = e.grid(w);
    if (wg.per_axis()) {
      const int32_t dim = wt.quant.quantized_dimension;
      if (static_cast<int64_t>(wg.scale.size()) != channels || dim != (depthwise ? 3 : 0))
        return e.op_error(index,
                          "its per-channel weights are not quantized along the output channels");
      wg.axis = 0;
    }
    if (wt.type == DataType::kUInt8 && !e.options().uint8_weights) {
      // q - z == (q - 128) - (z - 128): the same reals as int8, which ORT multiplies faster.
      for (uint8_t& v : weights) v ^= 0x80;
      wg.element_type = onnx_element_type(DataType::kInt8);
      for (int64_t& z : wg.zero_point) z -= 128;
    }
    const std::string weight_name =
        builder.initializer(weight_base, wg.element_type, dims, weights);
    inputs.push_back(e.dequantize(weight_name, wg, base + "/weights_real"));
    if (b >= 0) {
      // TFLite computes with the bias on the grid input scale x weight scale (a float product),
      // whatever scale the bias tensor carries.
      const Tensor& bt = e.tensor(b);
      if (bt.type != DataType::kInt32 || bt.num_elements() != channels)
        return e.op_error(index, "ONNX export needs an int32 bias of one value per output channel");
      Grid bg;
      bg.element_type = onnx_element_type(DataType::kInt32);
      const float input_scale = e.grid(x).scale[0];
      for (float s : wg.scale) bg.scale.push_back(input_scale * s);
      bg.zero_point.assign(bg.scale.size(), 0);
      const std::string bias = builder.initializer(bt.name.empty() ? base + "/bias" : bt.name,
                                                   bg.element_type, {channels}, bt.data);
      inputs.push_back(e.dequantize(bias, bg, base + "/bias_real"));
    }
  } else {
    inputs.push_back(builder.initializer(weight_base, onnx_element_type(wt.type), dims, weights));
    if (b >= 0) inputs.push_back(e.value(b, Layout::kNative));
  }
  const std::string result = e.result_name(y, activation, Layout::kNchw);
  ::onnx::NodeProto* conv = builder.node("Conv", inputs, result);
  G::attribute(conv, "kernel_shape", std::vector<int64_t>{dims[2], dims[3]});
  G::attribute(conv, "strides", std::vector<int64_t>{stride_h, stride_w});
  G::attribute(conv, "dilations", std::vector<int64_t>{dilation_h, dilation_w});
  G::attribute(conv, "pads", pads);
  G::attribute(conv, "group", group);
  e.finish_output(y, result, activation, Layout::kNchw);
  return Status::ok();
}

}  // namespace qseg::onnx_export

// Extracting DeepLab layer weights and activation ranges from a .tflite Graph.
#include "model/tflite_weights.h"

#include <cmath>

#include "model/model_config.h"
#include "quant/quant.h"

namespace qseg::model {
namespace {

// Real value of element i of a constant tensor (float, or uint8/int8/int32 dequantized with its
// per-tensor or per-channel parameters).
Result<std::vector<float>> dequantize(const Tensor& t, const std::string& context) {
  const int64_t n = t.num_elements();
  if (!t.is_constant || static_cast<int64_t>(t.data.size()) != t.byte_size()) {
    return Status::error(context + ": tensor " + t.name + " is not a constant with data");
  }
  std::vector<float> out(static_cast<size_t>(n));
  if (t.type == DataType::kFloat32) {
    std::copy(t.data_as<float>(), t.data_as<float>() + n, out.begin());
    return out;
  }
  if (t.quant.empty())
    return Status::error(context + ": tensor " + t.name + " is integer but not quantized");
  // Per channel: the quantized dimension's index of element i.
  int64_t inner = 1;
  const int dim = t.quant.quantized_dimension;
  for (size_t d = static_cast<size_t>(dim) + 1; d < t.shape.size(); ++d) inner *= t.shape[d];
  const int64_t channels = t.quant.per_tensor() ? 1 : t.shape[static_cast<size_t>(dim)];
  if (!t.quant.per_tensor() && static_cast<int64_t>(t.quant.scale.size()) != channels) {
    return Status::error(context + ": tensor " + t.name + " has a bad per-channel quantization");
  }
  for (int64_t i = 0; i < n; ++i) {
    const size_t c = t.quant.per_tensor() ? 0 : static_cast<size_t>((i / inner) % channels);
    const float scale = t.quant.scale[c];
    const int64_t zero_point = c < t.quant.zero_point.size() ? t.quant.zero_point[c] : 0;
    int64_t q = 0;
    switch (t.type) {
      case DataType::kUInt8:
        q = t.data_as<uint8_t>()[i];
        break;
      case DataType::kInt8:
        q = t.data_as<int8_t>()[i];
        break;
      case DataType::kInt32:
        q = t.data_as<int32_t>()[i];
        break;
      default:
        return Status::error(context + ": tensor " + t.name + " has an unsupported type");
    }
    out[static_cast<size_t>(i)] = scale * static_cast<float>(q - zero_point);
  }
  return out;
}

// The range whose 8-bit grid is exactly the tensor's scale and zero point (quant::range_of_grid),
// so that converting the imported model gives the file's quantization back.
std::pair<float, float> range_of(const Tensor& t) {
  const auto zero_point =
      static_cast<int32_t>(t.quant.zero_point.empty() ? 0 : t.quant.zero_point[0]);
  const quant::RealRange r = quant::range_of_grid(t.quant.scale[0], zero_point, 0, 255);
  return {r.min, r.max};
}

bool is_uint8_activation(const Tensor& t) {
  return t.type == DataType::kUInt8 && t.quant.per_tensor();
}

}  // namespace

std::string layer_scope_from_tensor_name(const std::string& tensor_name) {
  const std::string first = tensor_name.substr(0, tensor_name.find(';'));
  const size_t slash = first.rfind('/');
  return slash == std::string::npos ? std::string() : first.substr(0, slash);
}

Result<ImportedWeights> extract_deeplab_weights(const Graph& graph, const std::string& name) {
  ImportedWeights w;
  w.source = name;
  if (graph.inputs.size() != 1) return Status::error(name + ": a DeepLab model has one input");
  w.input_tensor = graph.inputs[0];
  const Tensor& input = graph.tensors[w.input_tensor];
  if (input.shape.size() != 4 || input.shape[1] != input.shape[2] || input.shape[3] != 3) {
    return Status::error(name + ": the input must be a square RGB image [1, S, S, 3]");
  }
  w.input_size = input.shape[1];
  w.quantized = input.type == DataType::kUInt8;
  int backbone_size = 0;
  for (size_t i = 0; i < graph.ops.size(); ++i) {
    const Op& op = graph.ops[i];
    const std::string context = name + ": op " + std::to_string(i);
    if (op.type == OpType::kAdd && w.quantized &&
        is_uint8_activation(graph.tensors[op.outputs[0]])) {
      const std::string& out_name = graph.tensors[op.outputs[0]].name;
      const std::string scope = out_name.substr(0, out_name.find(';'));
      const size_t slash = scope.rfind('/');
      if (slash != std::string::npos)
        w.ranges[scope.substr(0, slash) + "/add_quant"] = range_of(graph.tensors[op.outputs[0]]);
    }
    if (op.type == OpType::kConcatenation && w.quantized &&
        is_uint8_activation(graph.tensors[op.outputs[0]])) {
      w.ranges["concat_quant"] = range_of(graph.tensors[op.outputs[0]]);
    }
    if (op.type != OpType::kConv2d && op.type != OpType::kDepthwiseConv2d) continue;
    if (op.inputs.size() < 3 || op.inputs[1] < 0 || op.inputs[2] < 0) {
      return Status::error(context + ": a DeepLab convolution has weights and a bias");
    }
    const Tensor& weights = graph.tensors[op.inputs[1]];
    const Tensor& bias = graph.tensors[op.inputs[2]];
    ImportedLayer layer;
    layer.name = layer_scope_from_tensor_name(weights.name);
    layer.op_index = static_cast<int>(i);
    layer.depthwise = op.type == OpType::kDepthwiseConv2d;
    if (layer.name.empty())
      return Status::error(context + ": cannot tell the layer from weight tensor " + weights.name);
    if (w.layers.count(layer.name))
      return Status::error(context + ": layer " + layer.name + " appears twice");
    if (weights.shape.size() != 4)
      return Status::error(context + ": weights of " + layer.name + " are not 4-D");
    QSEG_ASSIGN_OR_RETURN(std::vector<float> values, dequantize(weights, context));
    if (weights.type == DataType::kUInt8 && weights.quant.per_tensor()) {
      layer.weight_quantized = true;
      layer.weight_scale = weights.quant.scale[0];
      layer.weight_zero_point =
          static_cast<int32_t>(weights.quant.zero_point.empty() ? 0 : weights.quant.zero_point[0]);
    }
    QSEG_ASSIGN_OR_RETURN(layer.bias, dequantize(bias, context));
    const int64_t kh = weights.shape[1], kw = weights.shape[2];
    if (layer.depthwise) {
      const auto& o = op.options_as<DepthwiseConv2dOptions>();
      if (weights.shape[0] != 1 || o.depth_multiplier != 1) {
        return Status::error(context + ": depthwise layer " + layer.name +
                             " must have depth multiplier 1");
      }
      const int64_t channels = weights.shape[3];
      layer.weight_shape = {channels, 1, kh, kw};
      layer.weight.resize(values.size());
      for (int64_t y = 0; y < kh; ++y)
        for (int64_t x = 0; x < kw; ++x)
          for (int64_t c = 0; c < channels; ++c)
            layer.weight[(c * kh + y) * kw + x] = values[(y * kw + x) * channels + c];
      layer.stride = o.stride_h;
      layer.dilation = o.dilation_h;
      layer.activation = o.activation;
    } else {
      const auto& o = op.options_as<Conv2dOptions>();
      const int64_t out = weights.shape[0], in = weights.shape[3];
      layer.weight_shape = {out, in, kh, kw};
      layer.weight.resize(values.size());
      for (int64_t oc = 0; oc < out; ++oc)
        for (int64_t y = 0; y < kh; ++y)
          for (int64_t x = 0; x < kw; ++x)
            for (int64_t ic = 0; ic < in; ++ic)
              layer.weight[((oc * in + ic) * kh + y) * kw + x] =
                  values[((oc * kh + y) * kw + x) * in + ic];
      layer.stride = o.stride_h;
      layer.dilation = o.dilation_h;
      layer.activation = o.activation;
    }
    if (static_cast<int64_t>(layer.bias.size()) != layer.weight_shape[0]) {
      return Status::error(context + ": bias of " + layer.name +
                           " does not match its output channels");
    }
    const Tensor& output = graph.tensors[op.outputs[0]];
    if (w.quantized && is_uint8_activation(output))
      w.ranges[layer.name + "/act_quant"] = range_of(output);
    if (layer.name == kLogitsScope) w.logits_tensor = op.outputs[0];
    if (layer.name == "aspp0" && output.shape.size() == 4) backbone_size = output.shape[1];
    w.layers.emplace(layer.name, std::move(layer));
  }
  auto stem = w.layers.find("MobilenetV2/Conv");
  auto logits = w.layers.find(kLogitsScope);
  if (stem == w.layers.end() || logits == w.layers.end() || backbone_size < 2) {
    return Status::error(
        name +
        ": not a DeepLabV3 MobileNetV2 model (no MobilenetV2/Conv, aspp0 or logits/semantic)");
  }
  w.depth_multiplier = static_cast<float>(stem->second.weight_shape[0]) / 32.0f;
  w.num_classes = static_cast<int>(logits->second.weight_shape[0]);
  w.output_stride = (w.input_size - 1) / (backbone_size - 1);
  return w;
}

}  // namespace qseg::model

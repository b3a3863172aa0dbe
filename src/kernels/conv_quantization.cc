// Prepares the requantization of CONV_2D and DEPTHWISE_CONV_2D (multipliers, offsets, ranges).
#include "kernels/conv_quantization.h"

#include <cmath>
#include <string>

#include "kernels/op_checks.h"
#include "kernels/shape.h"

namespace qseg::kernels {

Status check_conv_bias(const Tensor* bias, const Tensor& input, int32_t channels) {
  if (bias == nullptr) return Status::ok();
  if (input.type == DataType::kFloat32) {
    QSEG_RETURN_IF_ERROR(check_type(*bias, "bias", {DataType::kFloat32}));
  } else {
    QSEG_RETURN_IF_ERROR(check_type(*bias, "bias", {DataType::kInt32}));
    for (int64_t zero_point : bias->quant.zero_point) {
      if (zero_point != 0) {
        return Status::error("bias zero point must be 0, got " + std::to_string(zero_point));
      }
    }
  }
  if (bias->shape != std::vector<int32_t>{channels}) {
    return Status::error("bias shape " + shape_string(bias->shape) + " must be [" +
                         std::to_string(channels) + "], one value per output channel");
  }
  return Status::ok();
}

Result<ConvQuantization> prepare_conv_quantization(const Tensor& input, const Tensor& weights,
                                                   const Tensor* bias, const Tensor& output,
                                                   Activation activation, int32_t channels,
                                                   int32_t channel_dimension,
                                                   Requantization requantization) {
  QSEG_ASSIGN_OR_RETURN(const TensorQuantization in, per_tensor_quantization(input, "input"));
  QSEG_ASSIGN_OR_RETURN(const TensorQuantization out, per_tensor_quantization(output, "output"));
  ConvQuantization q;
  q.requantization = requantization;
  q.input_offset = -in.zero_point;
  q.output_offset = out.zero_point;
  const quant::QuantizedRange range = type_range(output.type);
  q.activation_range =
      quant::activation_range(activation, out.scale, out.zero_point, range.min, range.max);
  if (input.type == DataType::kUInt8) {
    QSEG_ASSIGN_OR_RETURN(const TensorQuantization w, per_tensor_quantization(weights, "weights"));
    q.weights_offset = -w.zero_point;
    const double real = quant::convolution_multiplier(in.scale, w.scale, out.scale);
    if (bias != nullptr && bias->quant.scale.size() == 1) {
      // TFLite's GetQuantizedConvolutionMultipler: the kernel adds the bias as if its scale were
      // input_scale * weight_scale, so a different one must be negligible in output steps.
      const double product = static_cast<double>(in.scale * w.scale);
      const double difference = std::abs(product - static_cast<double>(bias->quant.scale[0]));
      if (difference / static_cast<double>(out.scale) > 0.02) {
        return Status::error("bias scale " + std::to_string(bias->quant.scale[0]) +
                             " differs from input scale * weights scale " +
                             std::to_string(product));
      }
    }
    q.multipliers.assign(channels, quant::quantize_multiplier(real));
    q.float_scales.assign(channels, quant::float_convolution_scale(in.scale, w.scale, out.scale));
  } else {
    QSEG_ASSIGN_OR_RETURN(const std::vector<float> scales,
                          per_channel_scales(weights, "weights", channel_dimension, channels));
    q.multipliers.resize(channels);
    q.float_scales.resize(channels);
    for (int32_t c = 0; c < channels; ++c) {
      q.float_scales[c] = quant::float_convolution_scale(in.scale, scales[c], out.scale);
      q.multipliers[c] = quant::quantize_multiplier(
          quant::per_channel_convolution_multiplier(in.scale, scales[c], out.scale));
    }
  }
  return q;
}

}  // namespace qseg::kernels

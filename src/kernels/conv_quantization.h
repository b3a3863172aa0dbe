// Quantization parameters shared by CONV_2D and DEPTHWISE_CONV_2D: offsets, one fixed-point
// multiplier per output channel and the activation range, computed as TFLite's
// PopulateConvolutionQuantizationParams does.
#pragma once

#include <cstdint>
#include <vector>

#include "qseg/graph.h"
#include "qseg/status.h"
#include "quant/quant.h"

namespace qseg::kernels {

// out = clamp(multiply(sum((x + input_offset) * (w + weights_offset)) + bias, multiplier[oc])
//             + output_offset, activation_range)
struct ConvQuantization {
  int32_t input_offset = 0;    // -input zero point
  int32_t weights_offset = 0;  // -weights zero point (uint8 weights; 0 for symmetric int8)
  int32_t output_offset = 0;   // output zero point
  std::vector<quant::FixedPointMultiplier> multipliers;  // one per output channel
  std::vector<float> float_scales;  // the same scales in float32, for Requantization::kXnnpack
  quant::QuantizedRange activation_range;
  Requantization requantization = Requantization::kFixedPoint;

  // The output value of channel oc for an int32 accumulator (bias included).
  int32_t requantize(int32_t accumulator, int32_t oc) const {
    return quant::requantize_accumulator(accumulator, multipliers[oc], float_scales[oc],
                                         output_offset, activation_range, requantization);
  }
};

// For uint8: per-tensor uint8 weights, multiplier from the float product of the input and
// weight scales (quant::convolution_multiplier), bias scale within 2% of an output step of
// input_scale * weight_scale when the bias carries a scale (TFLite's check). For int8: int8
// weights symmetric per channel along `channel_dimension` (or per tensor), multipliers from
// quant::per_channel_convolution_multiplier. `bias` may be null; it is checked elsewhere.
// `requantization` picks the arithmetic requantize() follows.
Result<ConvQuantization> prepare_conv_quantization(const Tensor& input, const Tensor& weights,
                                                   const Tensor* bias, const Tensor& output,
                                                   Activation activation, int32_t channels,
                                                   int32_t channel_dimension,
                                                   Requantization requantization);

// Checks the optional bias of a convolution: int32 for 8-bit inputs, float32 for float32, shape
// [channels], zero point 0 if quantized.
Status check_conv_bias(const Tensor* bias, const Tensor& input, int32_t channels);

}  // namespace qseg::kernels

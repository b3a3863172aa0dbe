// The 8-bit arithmetic of MUL, SUB, MEAN, HARD_SWISH and LOGISTIC, in both of TFLite's
// arithmetics (qseg/requantization.h): what XNNPACK computes where TFLite's delegate takes the op,
// and TFLite's built-in kernels otherwise and in Requantization::kFixedPoint.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "quant/quant.h"

namespace qseg::quant {

// ---- MUL

// TFLite's built-in 8-bit MUL: (q1 - zp1) * (q2 - zp2) times the multiplier of
// scale1 * scale2 / output_scale (the scales widened to double first), plus the output zero
// point. The product of two offset 8-bit values is below 2^16 in magnitude.
struct MulQuantization {
  int32_t input1_offset = 0;  // -zero_point of input 1
  int32_t input2_offset = 0;  // -zero_point of input 2
  int32_t output_offset = 0;  // zero_point of the output
  FixedPointMultiplier multiplier;
};
MulQuantization mul_quantization(float input1_scale, int32_t input1_zero_point, float input2_scale,
                                 int32_t input2_zero_point, float output_scale,
                                 int32_t output_zero_point);
inline int32_t mul_quantized(int32_t q1, int32_t q2, const MulQuantization& p,
                             QuantizedRange range) {
  const int32_t product = (q1 + p.input1_offset) * (q2 + p.input2_offset);
  return offset_and_clamp(multiply_by_quantized_multiplier(product, p.multiplier), p.output_offset,
                          range);
}

// XNNPACK's 8-bit MUL (fp32 requantization): the same product converted to float, times
// scale = (scale1 * scale2) / output_scale computed in float, rounded half to even
// (requantize_float). Empty when that scale is outside [2^-16, 2^8), which XNNPACK does not take.
struct XnnpackMul {
  int32_t input1_zero_point = 0;
  int32_t input2_zero_point = 0;
  int32_t output_zero_point = 0;
  float scale = 1.0f;
};
std::optional<XnnpackMul> xnnpack_mul_params(float input1_scale, int32_t input1_zero_point,
                                             float input2_scale, int32_t input2_zero_point,
                                             float output_scale, int32_t output_zero_point);
inline int32_t mul_xnnpack(int32_t q1, int32_t q2, const XnnpackMul& p, QuantizedRange range) {
  return requantize_float((q1 - p.input1_zero_point) * (q2 - p.input2_zero_point), p.scale,
                          p.output_zero_point, range);
}

// ---- SUB

// TFLite's built-in 8-bit SUB: ADD's scheme (add_quantization: both inputs rescaled to twice the
// larger scale, 20 bits up) with the second scaled input subtracted.
inline int32_t sub_quantized(int32_t q1, int32_t q2, const AddQuantization& p,
                             QuantizedRange range) {
  const int32_t shifted1 = (q1 + p.input1_offset) * (int32_t{1} << p.left_shift);
  const int32_t shifted2 = (q2 + p.input2_offset) * (int32_t{1} << p.left_shift);
  const int32_t scaled1 = multiply_by_quantized_multiplier(shifted1, p.input1_multiplier);
  const int32_t scaled2 = multiply_by_quantized_multiplier(shifted2, p.input2_multiplier);
  return offset_and_clamp(multiply_by_quantized_multiplier(scaled1 - scaled2, p.output_multiplier),
                          p.output_offset, range);
}

// XNNPACK's 8-bit SUB is its ADD with the second input's scale negated: the multipliers of
// xnnpack_add_params with multiplier2 negative (the rounding, half to even, is symmetric) and the
// bias recomputed; add_xnnpack then computes it. Empty where xnnpack_add_params is.
std::optional<XnnpackAdd> xnnpack_sub_params(float input1_scale, int32_t input1_zero_point,
                                             float input2_scale, int32_t input2_zero_point,
                                             float output_scale, int32_t output_zero_point);

// ---- MEAN

// XNNPACK's 8-bit global average pooling (TFLite's MEAN over H and W, or over W, of a 4-D input):
// the sum of the `count` values plus bias = -count * input_zero_point, converted to float, times
// scale = input_scale / (output_scale * count) in float, rounded half to even (requantize_float).
// Empty when input_scale / output_scale is outside [2^-8, 2^8), which XNNPACK does not take.
struct XnnpackMean {
  int32_t bias = 0;
  float scale = 1.0f;
  int32_t output_zero_point = 0;
};
std::optional<XnnpackMean> xnnpack_mean_params(float input_scale, int32_t input_zero_point,
                                               float output_scale, int32_t output_zero_point,
                                               int64_t count);
inline int32_t mean_xnnpack(int32_t sum, const XnnpackMean& p, QuantizedRange range) {
  return requantize_float(sum + p.bias, p.scale, p.output_zero_point, range);
}

// TFLite's built-in 8-bit MEAN, which has three arithmetics:
// - kTruncatedAverage, same scale and zero point in and out: the sum divided by the count,
//   truncated;
// - kRescaled: in float, mean = sum / count, then round(mean * scale + bias) half away from zero
//   plus the output zero point, with scale = input_scale / output_scale and
//   bias = -input_zero_point * scale;
// - kInt8Spatial, int8 over H and W of a 4-D input with keep_dims: the sum offset by
//   -count * input_zero_point, times the multiplier of input_scale / output_scale (double),
//   divided by the count rounding half away from zero, plus the output zero point;
// - kUint8Spatial, uint8 over H and W of a 4-D input with keep_dims: the raw sum times the
//   multiplier of input_scale / (count * output_scale) (float), plus
//   bias = output_zero_point - round(input_zero_point * input_scale / output_scale) (float, half
//   away from zero).
struct MeanQuantization {
  enum class Kind : uint8_t { kTruncatedAverage, kRescaled, kInt8Spatial, kUint8Spatial };
  Kind kind = Kind::kRescaled;
  int32_t input_zero_point = 0;
  int32_t output_zero_point = 0;
  FixedPointMultiplier multiplier;
  int32_t bias = 0;                       // kUint8Spatial
  float scale = 1.0f, float_bias = 0.0f;  // kRescaled
  int64_t count = 1;
};
// `spatial`: a 4-D input reduced over axes {1, 2} with keep_dims.
MeanQuantization mean_quantization(float input_scale, int32_t input_zero_point, float output_scale,
                                   int32_t output_zero_point, int64_t count, DataType type,
                                   bool spatial);
int32_t mean_quantized(int64_t sum, const MeanQuantization& p, QuantizedRange range);

// ---- HARD_SWISH and LOGISTIC: functions of one 8-bit value, tabulated once at prepare.

// table[q - qmin] for every 8-bit q of the type [qmin, qmin + 255].
using LookupTable = std::array<uint8_t, 256>;

// TFLite's built-in 8-bit HARD_SWISH (x * relu6(x + 3) / 6): int16 fixed point. The input is
// moved 7 bits up ("hires" scale input_scale / 128); one 16-bit multiplier brings it to the output
// scale, another to the scale on which 3.0 is 2^15 (saturating), which is then mapped to [0, 1];
// the two are multiplied (without rounding, to cancel the earlier roundings' bias) and shifted to
// the output. Multipliers are QuantizeMultiplier's, rounded down to 16 bits.
LookupTable hard_swish_table(float input_scale, int32_t input_zero_point, float output_scale,
                             int32_t output_zero_point, int32_t qmin);

// TFLite's built-in LOGISTIC table (its LUTPopulate): y = 1 / (1 + expf(-x)) in float for
// x = input_scale * (q - input_zero_point), then round(y / output_scale) half away from zero, plus
// the output zero point, clamped.
LookupTable logistic_table(float input_scale, int32_t input_zero_point, float output_scale,
                           int32_t output_zero_point, int32_t qmin);
// XNNPACK's LOGISTIC table: y computed as 1 / (1 + expf(-x)) for x < 0 and 1 - 1 / (1 + expf(x))
// otherwise, scaled by 1 / output_scale, rounded half to even, plus the zero point, clamped.
LookupTable xnnpack_logistic_table(float input_scale, int32_t input_zero_point, float output_scale,
                                   int32_t output_zero_point, int32_t qmin);

}  // namespace qseg::quant

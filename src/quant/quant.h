// The one home of qseg's quantization arithmetic: scales and zero points, fixed-point
// multipliers with TFLite's rounding, requantization and activation ranges. Kernels, fake
// quantization in training and the converter all call these, so they cannot drift apart.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>

#include "qseg/graph.h"
#include "qseg/requantization.h"

namespace qseg::quant {

// A real multiplier M > 0 represented as quantized_multiplier * 2^(shift - 31), with
// quantized_multiplier in [2^30, 2^31). shift > 0 means a left shift. This is TFLite's
// QuantizeMultiplier: M's fraction from frexp, rounded to 31 bits (half away from zero).
struct FixedPointMultiplier {
  int32_t multiplier = 0;
  int32_t shift = 0;
};
FixedPointMultiplier quantize_multiplier(double real_multiplier);

// (a * b * 2) / 2^32 rounded to nearest, saturating the single overflow case
// a == b == INT32_MIN (gemmlowp's SaturatingRoundingDoublingHighMul). Ties of a positive
// product round up, ties of a negative one toward zero (gemmlowp's nudge is 1 - 2^30 there):
// -1.5 -> -1.
int32_t saturating_rounding_doubling_high_mul(int32_t a, int32_t b);

// x / 2^exponent rounded half away from zero (gemmlowp's RoundingDivideByPOT), 0 <= exponent <= 31.
int32_t rounding_divide_by_pot(int32_t x, int32_t exponent);

// x * M for M given as FixedPointMultiplier, with TFLite's default double rounding:
// RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x << left, m), right). Rounding twice
// can be one off the exactly rounded product (1000 / 3 gives 334). Where x << left would
// overflow 32 bits (undefined in TFLite) the exact product is rounded and saturated instead.
int32_t multiply_by_quantized_multiplier(int32_t x, FixedPointMultiplier m);

// Effective multiplier of a convolution: input_scale * weight_scale / output_scale, computed as
// TFLite does (the float product of the two input scales, then double division).
double convolution_multiplier(float input_scale, float weight_scale, float output_scale);

// Quantizes a real value with TFLite's rounding: zero_point + round(value / scale), where the
// division is in float and round() is half away from zero; saturated to [qmin, qmax].
int32_t quantize_value(float value, float scale, int32_t zero_point, int32_t qmin, int32_t qmax);

inline float dequantize_value(int32_t q, float scale, int32_t zero_point) {
  return scale * static_cast<float>(q - zero_point);
}

template <typename T>
constexpr int32_t qmin() {
  return std::numeric_limits<T>::min();
}
template <typename T>
constexpr int32_t qmax() {
  return std::numeric_limits<T>::max();
}

// The quantized interval a fused activation clamps to (TFLite's
// CalculateActivationRangeQuantized): RELU clamps below at the zero point, RELU6 also above at
// quantize(6), RELU_N1_TO_1 to [quantize(-1), quantize(1)], all within [qmin, qmax].
struct QuantizedRange {
  int32_t min = 0;
  int32_t max = 0;
};
QuantizedRange activation_range(Activation activation, float scale, int32_t zero_point,
                                int32_t qmin, int32_t qmax);

struct FloatRange {
  float min = -std::numeric_limits<float>::infinity();
  float max = std::numeric_limits<float>::infinity();
};
FloatRange activation_range_float(Activation activation);

// Clamps an int32 accumulator already requantized and offset into [range.min, range.max].
inline int32_t clamp(int32_t v, QuantizedRange range) {
  return v < range.min ? range.min : (v > range.max ? range.max : v);
}

// [min(min, 0), max(max, 0)]: a quantized range always contains 0 (so that 0, e.g. padding, is
// exact). choose_quantization widens its range so, and so does training's moving average of each
// batch's min and max.
inline FloatRange range_with_zero(float min, float max) {
  return {std::min(min, 0.0f), std::max(max, 0.0f)};
}

// Scale and zero point covering [min, max] with quantized values [qmin, qmax], the range first
// widened to contain 0 (range_with_zero) and the zero point nudged to an integer (TensorFlow's
// FakeQuant rules).
struct ScaleZeroPoint {
  float scale = 1.0f;
  int32_t zero_point = 0;
};
ScaleZeroPoint choose_quantization(float min, float max, int32_t qmin, int32_t qmax);

// A real range [min, max] whose choose_quantization over [qmin, qmax] gives exactly `scale` and
// `zero_point` back: what a quantized tensor's range is when a model is imported for training or
// conversion. (0 - zero_point) * scale and (qmax - zero_point) * scale are rounded floats, and
// their difference divided by qmax - qmin can miss scale by an ulp, which would change the
// converted model; the ends are moved by the fewest ulps that give it back. Falls back to the
// plain ends if no nearby pair does.
struct RealRange {
  float min = 0.0f;
  float max = 0.0f;
};
RealRange range_of_grid(float scale, int32_t zero_point, int32_t qmin, int32_t qmax);

// The grid of a fake-quantization node (TensorFlow's FakeQuantWithMinMaxVars, which training's
// fake quantization replicates): choose_quantization over [min, max] with num_bits bits, quantized
// values [qmin, qmax] = [narrow_range ? 1 : 0, 2^num_bits - 1] (narrow range, used for weights,
// leaves out the lowest code), and the nudged real range [(qmin - zero_point) * scale,
// (qmax - zero_point) * scale] whose ends are exactly representable and which contains 0.
struct FakeQuantGrid {
  float scale = 1.0f;
  int32_t zero_point = 0;
  int32_t qmin = 0;
  int32_t qmax = 255;
  float nudged_min = 0.0f;
  float nudged_max = 0.0f;
};
FakeQuantGrid fake_quant_grid(float min, float max, int num_bits, bool narrow_range);

// The number of grid steps from grid_min to a value already clamped into the grid's range, as
// TensorFlow's FakeQuantWithMinMaxVars computes it: floor((clamped - grid_min) * inverse_scale +
// 0.5), inverse_scale being the float reciprocal of the scale. The argument of floor is >= 0, so
// this rounds half away from zero. Training's fake quantization, fake_quantize_value and the
// converter's uint8 weights all round with this one expression.
inline float fake_quant_steps(float clamped, float grid_min, float inverse_scale) {
  return std::floor((clamped - grid_min) * inverse_scale + 0.5f);
}

// value clamped into [lo, hi], then rounded on the grid of `scale` that starts at grid_min:
// fake_quant_steps(...) * scale + grid_min. [lo, hi] is the grid's nudged range, or that range
// narrowed by a fused activation (fake_quant_bounds).
inline float fake_quantize_clamped(float value, float lo, float hi, float grid_min, float scale,
                                   float inverse_scale) {
  const float clamped = value < lo ? lo : (value > hi ? hi : value);
  return fake_quant_steps(clamped, grid_min, inverse_scale) * scale + grid_min;
}

// One value through the grid as TensorFlow computes it: clamp to [nudged_min, nudged_max], then
// round (fake_quantize_clamped).
inline float fake_quantize_value(float value, const FakeQuantGrid& grid) {
  return fake_quantize_clamped(value, grid.nudged_min, grid.nudged_max, grid.nudged_min, grid.scale,
                               1.0f / grid.scale);
}

// The interval a fake-quantized activation is clamped to: the grid's nudged range within the
// activation's bounds (ReLU: >= 0, ReLU6: also <= 6). Clamping to both is one clamp to this.
inline FloatRange fake_quant_bounds(const FakeQuantGrid& grid, FloatRange activation_bounds) {
  return {std::max(grid.nudged_min, activation_bounds.min),
          std::min(grid.nudged_max, activation_bounds.max)};
}

// ---- Helpers of particular kernels, here so that every variant of a kernel shares them. ----

// The int8 per-channel convolution multiplier as TFLite's PopulateConvolutionQuantizationParams
// computes it: every scale widened to double before the product (unlike convolution_multiplier,
// whose float product TFLite keeps for its uint8 per-tensor kernels).
double per_channel_convolution_multiplier(float input_scale, float weight_scale,
                                          float output_scale);

// value + offset clamped to range, the sum taken in 64 bits so that no multiplier or zero point
// can overflow it.
inline int32_t offset_and_clamp(int32_t value, int32_t offset, QuantizedRange range) {
  const int64_t sum = static_cast<int64_t>(value) + offset;
  return static_cast<int32_t>(sum < range.min ? range.min : (sum > range.max ? range.max : sum));
}

// XNNPACK's convolution scale: (input_scale * weight_scale) / output_scale, all in float32.
inline float float_convolution_scale(float input_scale, float weight_scale, float output_scale) {
  return input_scale * weight_scale / output_scale;
}

// XNNPACK's fp32 requantization: the accumulator converted to float, times scale, clamped to
// range - output_zero_point in float (so nothing can overflow), rounded half to even, plus
// output_zero_point.
inline int32_t requantize_float(int32_t accumulator, float scale, int32_t output_zero_point,
                                QuantizedRange range) {
  float v = static_cast<float>(accumulator) * scale;
  const auto lo = static_cast<float>(range.min - output_zero_point);
  const auto hi = static_cast<float>(range.max - output_zero_point);
  v = v < lo ? lo : (v > hi ? hi : v);
  return static_cast<int32_t>(std::nearbyint(v)) + output_zero_point;
}

// A convolution's output for an int32 accumulator (bias included) in `requantization`'s
// arithmetic: requantize_float with `scale` (kXnnpack), or multiply_by_quantized_multiplier with
// `multiplier` then offset_and_clamp (kFixedPoint).
inline int32_t requantize_accumulator(int32_t accumulator, FixedPointMultiplier multiplier,
                                      float scale, int32_t output_zero_point, QuantizedRange range,
                                      Requantization requantization) {
  if (requantization == Requantization::kXnnpack) {
    return requantize_float(accumulator, scale, output_zero_point, range);
  }
  return offset_and_clamp(multiply_by_quantized_multiplier(accumulator, multiplier),
                          output_zero_point, range);
}

// multiply_by_quantized_multiplier's two roundings for a right shift e = -shift >= 0 as one
// 64-bit floor, for vector kernels. y = round_half_up(x * m / 2^31) (m > 0 never saturates),
// then y / 2^e rounded half away from zero; with p = x * m exact in 64 bits both floors nest:
//   result = (p + 2^30 + (2^(e-1) - [p < -2^30]) * 2^31) >> (31 + e)     (e >= 1)
//   result = (p + 2^30) >> 31                                            (e == 0)
// where [p < -2^30] is y < 0 (the half-away-from-zero correction): result =
// (p + nudge - (p < -2^30 ? correction : 0)) >> shift.
struct SingleRoundingShift {
  int64_t nudge = int64_t{1} << 30;  // 2^30 + 2^(e+30) (e >= 1)
  int64_t shift = 31;                // 31 + e
  int64_t correction = 0;            // 2^31 (e >= 1)
};
inline SingleRoundingShift single_rounding_shift(int32_t right_shift) {
  const int32_t e = right_shift;
  SingleRoundingShift s;
  s.nudge = (int64_t{1} << 30) + (e >= 1 ? int64_t{1} << (e + 30) : 0);
  s.shift = 31 + e;
  s.correction = e >= 1 ? int64_t{1} << 31 : 0;
  return s;
}

// XNNPACK's 8-bit to 8-bit conversion (what TFLite's XNNPACK delegate runs for QUANTIZE):
// multiplier m = round(256 * input_scale / output_scale) with 8 fractional bits, and
// out = clamp(((output_zero_point << 8) - m * input_zero_point + 128 + m * x) >> 8).
// Empty when the multiplier falls outside [1, 2^16) (or the scales give no number) or the bias
// outside [-2^30, 2^30]: then float_convert could overflow for 8-bit values, and the caller
// requantizes in fixed point instead.
struct FloatConvert {
  int32_t multiplier = 0;
  int32_t bias = 0;  // (output_zero_point << 8) - multiplier * input_zero_point + 128
};
std::optional<FloatConvert> float_convert_params(float input_scale, int32_t input_zero_point,
                                                 float output_scale, int32_t output_zero_point);
inline int32_t float_convert(int32_t q, FloatConvert c, QuantizedRange range) {
  const int32_t v = (c.bias + c.multiplier * q) >> 8;  // arithmetic shift: floor
  return v < range.min ? range.min : (v > range.max ? range.max : v);
}

// TFLite's Requantize (QUANTIZE between integer types): (q - input_zero_point) times the
// multiplier of input_scale / output_scale, plus output_zero_point, clamped to range.
inline int32_t requantize(int32_t q, int32_t input_zero_point, FixedPointMultiplier multiplier,
                          int32_t output_zero_point, QuantizedRange range) {
  return offset_and_clamp(multiply_by_quantized_multiplier(q - input_zero_point, multiplier),
                          output_zero_point, range);
}

// TFLite's 8-bit ADD: each input, offset by its zero point, is shifted left by left_shift bits
// and rescaled to the common scale 2 * max(scale1, scale2); the sum is rescaled to the output.
// Bound: |q + offset| <= 255, so the shifted values stay below 2^28 and, both input
// multipliers being at most 1/2, so does the scaled sum.
struct AddQuantization {
  int32_t input1_offset = 0;  // -zero_point of input 1
  int32_t input2_offset = 0;  // -zero_point of input 2
  int32_t output_offset = 0;  // zero_point of the output
  int32_t left_shift = 20;
  FixedPointMultiplier input1_multiplier;
  FixedPointMultiplier input2_multiplier;
  FixedPointMultiplier output_multiplier;
};
AddQuantization add_quantization(float input1_scale, int32_t input1_zero_point, float input2_scale,
                                 int32_t input2_zero_point, float output_scale,
                                 int32_t output_zero_point);

inline int32_t add_quantized(int32_t q1, int32_t q2, const AddQuantization& p,
                             QuantizedRange range) {
  const int32_t shifted1 = (q1 + p.input1_offset) * (int32_t{1} << p.left_shift);
  const int32_t shifted2 = (q2 + p.input2_offset) * (int32_t{1} << p.left_shift);
  const int32_t scaled1 = multiply_by_quantized_multiplier(shifted1, p.input1_multiplier);
  const int32_t scaled2 = multiply_by_quantized_multiplier(shifted2, p.input2_multiplier);
  return offset_and_clamp(multiply_by_quantized_multiplier(scaled1 + scaled2, p.output_multiplier),
                          p.output_offset, range);
}

// XNNPACK's 8-bit ADD (what TFLite's XNNPACK delegate runs): each input's scale relative to the
// output's, input_scale / output_scale in float, becomes an integer multiplier with `shift`
// fractional bits, shift = 20 - the exponent of the larger ratio (so the larger multiplier has 21
// bits), rounded half to even; out = (bias + q1 * m1 + q2 * m2) >> shift (arithmetic, so with the
// 2^(shift-1) in bias it rounds half up), clamped, plus the output zero point. Empty when a ratio
// is outside [2^-10, 2^8), which XNNPACK does not take: TFLite then runs its built-in kernel
// (add_quantized).
struct XnnpackAdd {
  int32_t multiplier1 = 0;
  int32_t multiplier2 = 0;
  int32_t bias = 0;  // 2^(shift-1) - m1 * zero_point1 - m2 * zero_point2
  int32_t shift = 0;
  int32_t output_zero_point = 0;
};
std::optional<XnnpackAdd> xnnpack_add_params(float input1_scale, int32_t input1_zero_point,
                                             float input2_scale, int32_t input2_zero_point,
                                             float output_scale, int32_t output_zero_point);
// For 8-bit q1, q2 nothing overflows int32: |m * (q - zero_point)| < 2^21 * 2^8 for each input.
inline int32_t add_xnnpack(int32_t q1, int32_t q2, const XnnpackAdd& p, QuantizedRange range) {
  const int32_t v = (p.bias + q1 * p.multiplier1 + q2 * p.multiplier2) >> p.shift;
  const int32_t lo = range.min - p.output_zero_point, hi = range.max - p.output_zero_point;
  return (v < lo ? lo : (v > hi ? hi : v)) + p.output_zero_point;
}

// TFLite's ConcatenationWithScaling, in float: out = round(q * scale + bias) + output_zero_point
// with scale = input_scale * (1 / output_scale) and bias = -input_zero_point * scale, rounding
// half away from zero. The float result is saturated before conversion (TFLite converts first,
// which only differs where its conversion would be undefined).
struct FloatRescale {
  float scale = 1.0f;
  float bias = 0.0f;
  int32_t output_zero_point = 0;
};
FloatRescale float_rescale(float input_scale, int32_t input_zero_point, float output_scale,
                           int32_t output_zero_point);

// Rounds a float half away from zero and saturates it to [qmin, qmax]; NaN gives 0 (clamped).
inline int32_t round_and_clamp(float value, int32_t qmin, int32_t qmax) {
  if (std::isnan(value)) return qmin > 0 ? qmin : (qmax < 0 ? qmax : 0);
  const float rounded = std::round(value);
  if (rounded <= static_cast<float>(qmin)) return qmin;
  if (rounded >= static_cast<float>(qmax)) return qmax;
  return static_cast<int32_t>(rounded);
}

inline int32_t apply_float_rescale(int32_t q, const FloatRescale& r, int32_t qmin, int32_t qmax) {
  constexpr int32_t kBound = int32_t{1} << 30;  // far outside any 8-bit range, no overflow
  const int32_t rounded =
      round_and_clamp(static_cast<float>(q) * r.scale + r.bias, -kBound, kBound);
  return offset_and_clamp(rounded, r.output_zero_point, {qmin, qmax});
}

// numerator / denominator (denominator > 0) rounded half away from zero: TFLite's average
// pooling rounding ((sum + count / 2) / count for the non-negative uint8 sums, and the mirrored
// form for negative int8 sums).
inline int64_t rounding_divide(int64_t numerator, int64_t denominator) {
  return numerator >= 0 ? (numerator + denominator / 2) / denominator
                        : (numerator - denominator / 2) / denominator;
}

}  // namespace qseg::quant

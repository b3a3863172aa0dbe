// Fixed-point and rounding arithmetic shared by kernels, fake quantization and the converter.
#include "quant/quant.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace qseg::quant {

FixedPointMultiplier quantize_multiplier(double real_multiplier) {
  if (!(real_multiplier > 0.0) || !std::isfinite(real_multiplier)) return {0, 0};
  int exponent = 0;
  const double fraction = std::frexp(real_multiplier, &exponent);  // in [0.5, 1)
  auto q = static_cast<int64_t>(std::round(fraction * (int64_t{1} << 31)));
  if (q == (int64_t{1} << 31)) {  // rounding reached 1.0: renormalize
    q /= 2;
    ++exponent;
  }
  if (exponent < -31) return {0, 0};  // too small to represent: the product is zero
  // Exponents above 30 would overflow the left shift; such multipliers do not occur in valid
  // models (scales are bounded), so they saturate here instead of invoking undefined behavior.
  if (exponent > 30) return {std::numeric_limits<int32_t>::max(), 30};
  return {static_cast<int32_t>(q), exponent};
}

int32_t saturating_rounding_doubling_high_mul(int32_t a, int32_t b) {
  if (a == b && a == std::numeric_limits<int32_t>::min())
    return std::numeric_limits<int32_t>::max();
  const int64_t ab = static_cast<int64_t>(a) * static_cast<int64_t>(b);
  const int64_t nudge = ab >= 0 ? (int64_t{1} << 30) : (1 - (int64_t{1} << 30));
  // Division truncates toward zero, matching gemmlowp (not an arithmetic shift).
  return static_cast<int32_t>((ab + nudge) / (int64_t{1} << 31));
}

int32_t rounding_divide_by_pot(int32_t x, int32_t exponent) {
  const int32_t mask = static_cast<int32_t>((int64_t{1} << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

int32_t multiply_by_quantized_multiplier(int32_t x, FixedPointMultiplier m) {
  const int32_t left = m.shift > 0 ? m.shift : 0;
  const int32_t right = m.shift > 0 ? 0 : -m.shift;
  const int64_t shifted = static_cast<int64_t>(x) * (int64_t{1} << left);
  if (shifted < std::numeric_limits<int32_t>::min() ||
      shifted > std::numeric_limits<int32_t>::max()) {
    // TFLite shifts in 32 bits, which overflows here (undefined behavior); qseg returns the
    // product x * M rounded and saturated instead. Results agree wherever TFLite's are defined.
    const double product = std::round(
        std::ldexp(static_cast<double>(x) * static_cast<double>(m.multiplier), m.shift - 31));
    return static_cast<int32_t>(
        std::clamp(product, static_cast<double>(std::numeric_limits<int32_t>::min()),
                   static_cast<double>(std::numeric_limits<int32_t>::max())));
  }
  return rounding_divide_by_pot(
      saturating_rounding_doubling_high_mul(static_cast<int32_t>(shifted), m.multiplier), right);
}

double convolution_multiplier(float input_scale, float weight_scale, float output_scale) {
  const auto product = static_cast<double>(input_scale * weight_scale);
  return product / static_cast<double>(output_scale);
}

int32_t quantize_value(float value, float scale, int32_t zero_point, int32_t qmin, int32_t qmax) {
  const float scaled = std::round(value / scale);
  // Saturate in float first so the conversion to int cannot overflow.
  const float lo = static_cast<float>(qmin - zero_point);
  const float hi = static_cast<float>(qmax - zero_point);
  const float bounded = std::isnan(scaled) ? 0.0f : std::clamp(scaled, lo, hi);
  return std::clamp(static_cast<int32_t>(bounded) + zero_point, qmin, qmax);
}

QuantizedRange activation_range(Activation activation, float scale, int32_t zero_point,
                                int32_t qmin, int32_t qmax) {
  auto q = [&](float v) { return quantize_value(v, scale, zero_point, qmin, qmax); };
  switch (activation) {
    case Activation::kNone:
      return {qmin, qmax};
    case Activation::kRelu:
      return {std::max(qmin, q(0.0f)), qmax};
    case Activation::kRelu6:
      return {std::max(qmin, q(0.0f)), std::min(qmax, q(6.0f))};
    case Activation::kReluN1To1:
      return {std::max(qmin, q(-1.0f)), std::min(qmax, q(1.0f))};
  }
  return {qmin, qmax};
}

FloatRange activation_range_float(Activation activation) {
  switch (activation) {
    case Activation::kNone:
      return {};
    case Activation::kRelu:
      return {0.0f, std::numeric_limits<float>::infinity()};
    case Activation::kRelu6:
      return {0.0f, 6.0f};
    case Activation::kReluN1To1:
      return {-1.0f, 1.0f};
  }
  return {};
}

ScaleZeroPoint choose_quantization(float min, float max, int32_t qmin, int32_t qmax) {
  const FloatRange widened = range_with_zero(min, max);
  min = widened.min;
  max = widened.max;
  if (max - min <= 0.0f) return {1.0f, std::clamp<int32_t>(0, qmin, qmax)};
  const float scale = (max - min) / static_cast<float>(qmax - qmin);
  const float zero_point_from_min = static_cast<float>(qmin) - min / scale;
  int32_t zero_point = 0;
  if (zero_point_from_min <= static_cast<float>(qmin)) {
    zero_point = qmin;
  } else if (zero_point_from_min >= static_cast<float>(qmax)) {
    zero_point = qmax;
  } else {
    zero_point = static_cast<int32_t>(std::round(zero_point_from_min));
  }
  return {scale, zero_point};
}

RealRange range_of_grid(float scale, int32_t zero_point, int32_t qmin, int32_t qmax) {
  const RealRange plain{static_cast<float>(qmin - zero_point) * scale,
                        static_cast<float>(qmax - zero_point) * scale};
  auto exact = [&](const RealRange& r) {
    const ScaleZeroPoint q = choose_quantization(r.min, r.max, qmin, qmax);
    return q.scale == scale && q.zero_point == zero_point;
  };
  if (!(scale > 0.0f) || !std::isfinite(scale) || exact(plain)) return plain;
  constexpr int kMaxUlps = 16;
  auto step = [](float v, int ulps) {
    const float toward =
        ulps > 0 ? std::numeric_limits<float>::infinity() : -std::numeric_limits<float>::infinity();
    for (int i = 0; i < std::abs(ulps); ++i) v = std::nextafter(v, toward);
    return v;
  };
  // The fewest ulps in all: |dmin| + |dmax| = 1, 2, ...
  for (int total = 1; total <= kMaxUlps; ++total) {
    for (int dmin = -total; dmin <= total; ++dmin) {
      const int rest = total - std::abs(dmin);
      for (const int dmax : {rest, -rest}) {
        const RealRange r{step(plain.min, dmin), step(plain.max, dmax)};
        if (exact(r)) return r;
        if (rest == 0) break;
      }
    }
  }
  return plain;
}

FakeQuantGrid fake_quant_grid(float min, float max, int num_bits, bool narrow_range) {
  FakeQuantGrid grid;
  grid.qmin = narrow_range ? 1 : 0;
  grid.qmax = (int32_t{1} << num_bits) - 1;
  const ScaleZeroPoint q = choose_quantization(min, max, grid.qmin, grid.qmax);
  grid.scale = q.scale;
  grid.zero_point = q.zero_point;
  grid.nudged_min = static_cast<float>(grid.qmin - q.zero_point) * q.scale;
  grid.nudged_max = static_cast<float>(grid.qmax - q.zero_point) * q.scale;
  return grid;
}

double per_channel_convolution_multiplier(float input_scale, float weight_scale,
                                          float output_scale) {
  return static_cast<double>(input_scale) * static_cast<double>(weight_scale) /
         static_cast<double>(output_scale);
}

AddQuantization add_quantization(float input1_scale, int32_t input1_zero_point, float input2_scale,
                                 int32_t input2_zero_point, float output_scale,
                                 int32_t output_zero_point) {
  AddQuantization p;
  p.input1_offset = -input1_zero_point;
  p.input2_offset = -input2_zero_point;
  p.output_offset = output_zero_point;
  p.left_shift = 20;
  // As TFLite's add.cc: the max and its doubling in float (exact), the ratios in double.
  const double twice_max_input_scale = 2 * std::max(input1_scale, input2_scale);
  p.input1_multiplier = quantize_multiplier(input1_scale / twice_max_input_scale);
  p.input2_multiplier = quantize_multiplier(input2_scale / twice_max_input_scale);
  p.output_multiplier = quantize_multiplier(
      twice_max_input_scale / ((1 << p.left_shift) * static_cast<double>(output_scale)));
  return p;
}

std::optional<XnnpackAdd> xnnpack_add_params(float input1_scale, int32_t input1_zero_point,
                                             float input2_scale, int32_t input2_zero_point,
                                             float output_scale, int32_t output_zero_point) {
  const float ratio1 = input1_scale / output_scale;
  const float ratio2 = input2_scale / output_scale;
  constexpr float kMin = 1.0f / 1024.0f, kMax = 256.0f;
  if (!(ratio1 >= kMin && ratio1 < kMax && ratio2 >= kMin && ratio2 < kMax)) return std::nullopt;
  int exponent = 0;
  std::frexp(std::max(ratio1, ratio2), &exponent);  // max in [2^(exponent-1), 2^exponent)
  const int32_t shift = 20 - (exponent - 1);        // in [12, 30]
  XnnpackAdd p;
  p.shift = shift;
  // Scaling by 2^shift is exact in float; the rounding to an integer is half to even (lrintf).
  p.multiplier1 = static_cast<int32_t>(std::nearbyint(std::ldexp(ratio1, shift)));
  p.multiplier2 = static_cast<int32_t>(std::nearbyint(std::ldexp(ratio2, shift)));
  const int64_t bias = (int64_t{1} << (shift - 1)) - int64_t{p.multiplier1} * input1_zero_point -
                       int64_t{p.multiplier2} * input2_zero_point;
  if (bias < INT32_MIN || bias > INT32_MAX) return std::nullopt;
  p.bias = static_cast<int32_t>(bias);
  p.output_zero_point = output_zero_point;
  return p;
}

FloatRescale float_rescale(float input_scale, int32_t input_zero_point, float output_scale,
                           int32_t output_zero_point) {
  const float inverse_output_scale = 1.0f / output_scale;
  const float scale = input_scale * inverse_output_scale;
  return {scale, static_cast<float>(-input_zero_point) * scale, output_zero_point};
}

std::optional<FloatConvert> float_convert_params(float input_scale, int32_t input_zero_point,
                                                 float output_scale, int32_t output_zero_point) {
  const float ratio = 256.0f * (input_scale / output_scale);
  // Checked before rounding: lrintf of a value beyond long's range (or NaN) has no defined result.
  if (!(ratio >= 0.5f && ratio < 65536.0f)) return std::nullopt;
  const auto multiplier = static_cast<int32_t>(std::lrintf(ratio));
  if (multiplier < 1 || multiplier >= (1 << 16)) return std::nullopt;
  const int64_t bias =
      int64_t{output_zero_point} * 256 - int64_t{multiplier} * input_zero_point + 128;
  if (bias < -(int64_t{1} << 30) || bias > (int64_t{1} << 30)) return std::nullopt;
  return FloatConvert{multiplier, static_cast<int32_t>(bias)};
}

}  // namespace qseg::quant

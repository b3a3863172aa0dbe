// src/quant: fixed-point multipliers and gemmlowp rounding on known values, activation ranges,
// quantize/requantize and the helpers of particular kernels (ADD, CONCATENATION, pooling).
#include "quant/quant.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace qseg::quant {
namespace {

constexpr int32_t kMin = std::numeric_limits<int32_t>::min();
constexpr int32_t kMax = std::numeric_limits<int32_t>::max();

void expect_multiplier(double real, int32_t multiplier, int32_t shift) {
  const FixedPointMultiplier m = quantize_multiplier(real);
  EXPECT_EQ(m.multiplier, multiplier) << real;
  EXPECT_EQ(m.shift, shift) << real;
}

TEST(QuantizeMultiplierTest, KnownValues) {
  expect_multiplier(0.5, 1 << 30, 0);
  expect_multiplier(1.0, 1 << 30, 1);
  expect_multiplier(0.25, 1 << 30, -1);
  expect_multiplier(0.75, 1610612736, 0);  // 0.75 * 2^31
  // 1/3 = 2/3 * 2^-1; 2/3 * 2^31 = 1431655765.33 rounds down.
  expect_multiplier(1.0 / 3.0, 1431655765, -1);
  expect_multiplier(3.0, 1610612736, 2);
}

TEST(QuantizeMultiplierTest, NearPowersOfTwo) {
  // Just below 1: the fraction rounds up to 2^31 and is renormalized to 2^30 with shift + 1.
  expect_multiplier(1.0 - 1e-12, 1 << 30, 1);
  // Just above 0.5: the smallest step above 2^30.
  expect_multiplier(0.5 + std::ldexp(1.0, -31), (1 << 30) + 1, 0);
  expect_multiplier(std::nextafter(0.5, 0.0), 1 << 30, 0);
  expect_multiplier(std::ldexp(1.0, -20), 1 << 30, -19);
}

TEST(QuantizeMultiplierTest, OutOfRange) {
  expect_multiplier(0.0, 0, 0);
  expect_multiplier(-0.5, 0, 0);
  expect_multiplier(std::nan(""), 0, 0);
  expect_multiplier(1e-12, 0, 0);  // exponent below -31: the product is zero anyway
  expect_multiplier(std::ldexp(1.0, 40), kMax, 30);
}

TEST(FixedPointTest, SaturatingRoundingDoublingHighMul) {
  EXPECT_EQ(saturating_rounding_doubling_high_mul(kMin, kMin), kMax);  // the one overflow
  EXPECT_EQ(saturating_rounding_doubling_high_mul(kMin, kMax), -kMax);
  EXPECT_EQ(saturating_rounding_doubling_high_mul(kMax, kMax), kMax - 1);
  EXPECT_EQ(saturating_rounding_doubling_high_mul(1 << 30, 1 << 30), 1 << 29);
  EXPECT_EQ(saturating_rounding_doubling_high_mul(100, 1 << 30), 50);
  // Ties: 3 * 2^30 / 2^31 = 1.5. gemmlowp's nudge rounds positive ties up and, because the
  // negative nudge is 1 - 2^30, negative ties toward zero.
  EXPECT_EQ(saturating_rounding_doubling_high_mul(3, 1 << 30), 2);
  EXPECT_EQ(saturating_rounding_doubling_high_mul(-3, 1 << 30), -1);
  EXPECT_EQ(saturating_rounding_doubling_high_mul(-5, 1 << 30), -2);
  // Not ties: 5 * 0.75 = 3.75 -> 4, -5 * 0.75 = -3.75 -> -4.
  EXPECT_EQ(saturating_rounding_doubling_high_mul(5, 1610612736), 4);
  EXPECT_EQ(saturating_rounding_doubling_high_mul(-5, 1610612736), -4);
}

TEST(FixedPointTest, RoundingDivideByPot) {
  EXPECT_EQ(rounding_divide_by_pot(5, 1), 3);    // 2.5 -> 3
  EXPECT_EQ(rounding_divide_by_pot(-5, 1), -3);  // -2.5 -> -3: ties away from zero
  EXPECT_EQ(rounding_divide_by_pot(-3, 1), -2);  // -1.5 -> -2
  EXPECT_EQ(rounding_divide_by_pot(-6, 2), -2);  // -1.5 -> -2
  EXPECT_EQ(rounding_divide_by_pot(-7, 2), -2);  // -1.75 -> -2
  EXPECT_EQ(rounding_divide_by_pot(-5, 2), -1);  // -1.25 -> -1
  EXPECT_EQ(rounding_divide_by_pot(6, 2), 2);    // 1.5 -> 2
  EXPECT_EQ(rounding_divide_by_pot(-1, 3), 0);   // -0.125 -> 0
  EXPECT_EQ(rounding_divide_by_pot(12345, 0), 12345);
  EXPECT_EQ(rounding_divide_by_pot(kMin, 31), -1);
  EXPECT_EQ(rounding_divide_by_pot(kMax, 31), 1);
  EXPECT_EQ(rounding_divide_by_pot(kMin, 1), kMin / 2);
}

TEST(FixedPointTest, MultiplyByQuantizedMultiplier) {
  EXPECT_EQ(multiply_by_quantized_multiplier(100, quantize_multiplier(0.5)), 50);
  EXPECT_EQ(multiply_by_quantized_multiplier(3, quantize_multiplier(0.5)), 2);
  EXPECT_EQ(multiply_by_quantized_multiplier(-3, quantize_multiplier(0.5)), -1);   // see above
  EXPECT_EQ(multiply_by_quantized_multiplier(-3, quantize_multiplier(0.25)), -1);  // -0.75
  EXPECT_EQ(multiply_by_quantized_multiplier(1000, quantize_multiplier(3.0)), 3000);
  // TFLite's double rounding: 1000 * (2/3) = 666.67 -> 667, then / 2 = 333.5 -> 334, where
  // the exactly rounded 333.33 would be 333. Likewise for -1000.
  EXPECT_EQ(multiply_by_quantized_multiplier(1000, quantize_multiplier(1.0 / 3.0)), 334);
  EXPECT_EQ(multiply_by_quantized_multiplier(-1000, quantize_multiplier(1.0 / 3.0)), -334);
  EXPECT_EQ(multiply_by_quantized_multiplier(999, quantize_multiplier(1.0 / 3.0)), 333);
  // Where the left shift overflows: the exact product, saturated.
  EXPECT_EQ(multiply_by_quantized_multiplier(1 << 30, quantize_multiplier(4.0)), kMax);
  EXPECT_EQ(multiply_by_quantized_multiplier(-(1 << 30), quantize_multiplier(4.0)), kMin);
  EXPECT_EQ(multiply_by_quantized_multiplier(1 << 29, quantize_multiplier(2.0)), 1 << 30);
  EXPECT_EQ(multiply_by_quantized_multiplier(1 << 28, quantize_multiplier(1.5)), 3 << 27);
  EXPECT_EQ(multiply_by_quantized_multiplier(12345, quantize_multiplier(1e-12)), 0);
  // Against double math on many values: within one of round(x * M).
  for (double m : {0.000123, 0.0217, 0.3, 0.77, 1.9, 13.5}) {
    const FixedPointMultiplier fm = quantize_multiplier(m);
    for (int32_t x = -100000; x <= 100000; x += 997) {
      const double exact = std::round(x * m);
      EXPECT_LE(std::abs(multiply_by_quantized_multiplier(x, fm) - exact), 1) << x << " * " << m;
    }
  }
}

TEST(ConvolutionMultiplierTest, FloatProductForUint8DoubleForPerChannel) {
  const float in = 0.1f, w = 0.3f, out = 0.7f;
  EXPECT_EQ(convolution_multiplier(in, w, out), static_cast<double>(in * w) / out);
  EXPECT_EQ(per_channel_convolution_multiplier(in, w, out),
            static_cast<double>(in) * static_cast<double>(w) / out);
  EXPECT_NE(convolution_multiplier(in, w, out), per_channel_convolution_multiplier(in, w, out));
}

TEST(QuantizeValueTest, RoundsHalfAwayAndSaturates) {
  EXPECT_EQ(quantize_value(0.25f, 0.5f, 0, -128, 127), 1);
  EXPECT_EQ(quantize_value(-0.25f, 0.5f, 0, -128, 127), -1);
  EXPECT_EQ(quantize_value(1.0f, 0.1f, 128, 0, 255), 138);
  EXPECT_EQ(quantize_value(1e30f, 0.1f, 128, 0, 255), 255);
  EXPECT_EQ(quantize_value(-1e30f, 0.1f, 128, 0, 255), 0);
  EXPECT_EQ(quantize_value(std::nanf(""), 0.1f, 7, 0, 255), 7);
  EXPECT_FLOAT_EQ(dequantize_value(138, 0.1f, 128), 1.0f);
}

TEST(ActivationRangeTest, Examples) {
  auto expect_range = [](QuantizedRange r, int32_t lo, int32_t hi) {
    EXPECT_EQ(r.min, lo);
    EXPECT_EQ(r.max, hi);
  };
  expect_range(activation_range(Activation::kNone, 0.1f, 10, 0, 255), 0, 255);
  expect_range(activation_range(Activation::kRelu6, 0.1f, 10, 0, 255), 10, 70);
  expect_range(activation_range(Activation::kRelu6, 6.0f / 255, 0, 0, 255), 0, 255);
  expect_range(activation_range(Activation::kRelu6, 0.05f, -128, -128, 127), -128, -8);
  expect_range(activation_range(Activation::kRelu, 0.1f, 128, 0, 255), 128, 255);
  expect_range(activation_range(Activation::kReluN1To1, 1.0f / 128, 128, 0, 255), 0, 255);
  expect_range(activation_range(Activation::kReluN1To1, 0.01f, 100, 0, 255), 0, 200);
  const FloatRange relu6 = activation_range_float(Activation::kRelu6);
  EXPECT_EQ(relu6.min, 0.0f);
  EXPECT_EQ(relu6.max, 6.0f);
  EXPECT_TRUE(std::isinf(activation_range_float(Activation::kNone).max));
}

TEST(RequantizeTest, KnownValues) {
  const FixedPointMultiplier half = quantize_multiplier(0.5);
  EXPECT_EQ(requantize(200, 100, half, 10, {0, 255}), 60);
  EXPECT_EQ(requantize(0, 100, half, 10, {0, 255}), 0);  // -40 clamps
  // A huge multiplier saturates without overflowing the offset addition.
  EXPECT_EQ(requantize(255, 0, quantize_multiplier(1e9), 255, {0, 255}), 255);
  EXPECT_EQ(offset_and_clamp(kMax, 255, {kMin, kMax}), kMax);
  EXPECT_EQ(offset_and_clamp(kMin, -1, {kMin, kMax}), kMin);
}

TEST(AddQuantizationTest, TfliteScheme) {
  const AddQuantization p = add_quantization(0.5f, 10, 0.25f, 100, 0.125f, 3);
  EXPECT_EQ(p.left_shift, 20);
  EXPECT_EQ(p.input1_offset, -10);
  EXPECT_EQ(p.input2_offset, -100);
  EXPECT_EQ(p.output_offset, 3);
  // twice_max = 1.0: inputs scaled by 0.5 and 0.25, output by 1 / (2^20 * 0.125) = 2^-17.
  EXPECT_EQ(p.input1_multiplier.multiplier, 1 << 30);
  EXPECT_EQ(p.input1_multiplier.shift, 0);
  EXPECT_EQ(p.input2_multiplier.shift, -1);
  EXPECT_EQ(p.output_multiplier.multiplier, 1 << 30);
  EXPECT_EQ(p.output_multiplier.shift, -16);
  // 0.5 * (12 - 10) + 0.25 * (101 - 100) = 1.25 -> 10 + 3.
  EXPECT_EQ(add_quantized(12, 101, p, {0, 255}), 13);
  EXPECT_EQ(add_quantized(0, 0, p, {0, 255}), 0);
  EXPECT_EQ(add_quantized(255, 255, p, {0, 255}), 255);
}

TEST(FloatRescaleTest, ConcatenationScheme) {
  const FloatRescale r = float_rescale(0.5f, 1, 0.25f, 10);
  EXPECT_EQ(r.scale, 2.0f);
  EXPECT_EQ(r.bias, -2.0f);
  EXPECT_EQ(apply_float_rescale(3, r, 0, 255), 14);
  EXPECT_EQ(apply_float_rescale(200, r, 0, 255), 255);
  EXPECT_EQ(apply_float_rescale(0, r, 0, 255), 8);
  // 0.3 / 0.2 = 1.5: 1 * 1.5 = 1.5 rounds away from zero to 2 (+ 0).
  EXPECT_EQ(apply_float_rescale(1, float_rescale(0.3f, 0, 0.2f, 0), -128, 127), 2);
  EXPECT_EQ(apply_float_rescale(-1, float_rescale(0.3f, 0, 0.2f, 0), -128, 127), -2);
}

TEST(RoundingTest, RoundAndClampAndDivide) {
  EXPECT_EQ(round_and_clamp(2.5f, 0, 255), 3);
  EXPECT_EQ(round_and_clamp(-2.5f, -128, 127), -3);
  EXPECT_EQ(round_and_clamp(2.49f, 0, 255), 2);
  EXPECT_EQ(round_and_clamp(1e20f, 0, 255), 255);
  EXPECT_EQ(round_and_clamp(-1e20f, 0, 255), 0);
  EXPECT_EQ(round_and_clamp(std::nanf(""), -128, 127), 0);
  EXPECT_EQ(rounding_divide(10, 4), 3);    // 2.5 -> 3
  EXPECT_EQ(rounding_divide(-10, 4), -3);  // -2.5 -> -3
  EXPECT_EQ(rounding_divide(9, 4), 2);
  EXPECT_EQ(rounding_divide(-9, 4), -2);
  EXPECT_EQ(rounding_divide(11, 3), 4);  // 3.67
  EXPECT_EQ(rounding_divide(0, 7), 0);
}

TEST(ChooseQuantizationTest, CoversTheRange) {
  const ScaleZeroPoint q = choose_quantization(-1.0f, 3.0f, 0, 255);
  EXPECT_FLOAT_EQ(q.scale, 4.0f / 255);
  EXPECT_EQ(q.zero_point, 64);                                       // 63.75 rounded
  EXPECT_EQ(choose_quantization(0.5f, 6.0f, 0, 255).zero_point, 0);  // widened to include 0
  EXPECT_EQ(choose_quantization(-6.0f, -0.5f, 0, 255).zero_point, 255);
}

}  // namespace
}  // namespace qseg::quant

namespace qseg::quant {
namespace {

TEST(FloatRequantization, RoundsHalfToEvenAndClampsBeforeConverting) {
  const QuantizedRange full{0, 255};
  EXPECT_EQ(requantize_float(5, 0.5f, 10, full), 12);  // 2.5 -> 2 (even) + 10
  EXPECT_EQ(requantize_float(7, 0.5f, 10, full), 14);  // 3.5 -> 4 (even) + 10
  EXPECT_EQ(requantize_float(-5, 0.5f, 10, full), 8);  // -2.5 -> -2
  EXPECT_EQ(requantize_float(3, 1.0f / 3.0f, 0, full), 1);
  // Far outside the range: clamped in float, so no integer overflow.
  EXPECT_EQ(requantize_float(std::numeric_limits<int32_t>::max(), 1000.0f, 128, full), 255);
  EXPECT_EQ(requantize_float(std::numeric_limits<int32_t>::min(), 1000.0f, 128, full), 0);
  EXPECT_EQ(requantize_float(100, 1.0f, 0, {0, 6}), 6);  // an activation range
}

TEST(FloatRequantization, ConvolutionScaleIsTheFloatProductThenQuotient) {
  const float a = 0.0235294f, b = 0.0173311f, c = 0.0470588f;
  EXPECT_EQ(float_convolution_scale(a, b, c), (a * b) / c);
}

TEST(FloatConvert, MatchesXnnpackFormula) {
  // Identity scales: out = x - in_zp + out_zp.
  const FloatConvert same = float_convert_params(0.1f, 128, 0.1f, 100).value();
  EXPECT_EQ(same.multiplier, 256);
  for (int x : {0, 1, 127, 128, 200, 255})
    EXPECT_EQ(float_convert(x, same, {0, 255}), std::clamp(x - 28, 0, 255));
  // Halving: out = floor((zp_out * 256 - m * zp_in + 128 + m * x) / 256) with m = 128.
  const FloatConvert half = float_convert_params(0.1f, 0, 0.2f, 3).value();
  EXPECT_EQ(half.multiplier, 128);
  EXPECT_EQ(float_convert(1, half, {0, 255}), 4);  // 3 + 0.5 + 0.5 -> 4
  EXPECT_EQ(float_convert(2, half, {0, 255}), 4);  // 3 + 1 + 0.5 -> 4
  EXPECT_EQ(float_convert(255, half, {0, 255}), 131);
  EXPECT_EQ(float_convert(255, float_convert_params(1.0f, 0, 0.5f, 0).value(), {0, 255}), 255);
}

// A file's scales can be anything: outside the multiplier's range [1, 2^16) there is no
// conversion (the kernels then requantize in fixed point) instead of an int32 overflow.
TEST(FloatConvert, RefusesMultipliersOutsideItsRange) {
  EXPECT_EQ(float_convert_params(255.0f, 0, 1.0f, 0).value().multiplier, 65280);
  EXPECT_EQ(float_convert_params(1.0f, 0, 256.0f, 0).value().multiplier, 1);
  EXPECT_FALSE(float_convert_params(256.0f, 0, 1.0f, 0).has_value());       // 2^16
  EXPECT_FALSE(float_convert_params(1.0f, 0, 1024.0f, 0).has_value());      // rounds to 0
  EXPECT_FALSE(float_convert_params(1e30f, 128, 1e-30f, 128).has_value());  // the fuzzer's case
  EXPECT_FALSE(float_convert_params(1.0f, 0, 0.0f, 0).has_value());         // infinite
  EXPECT_FALSE(float_convert_params(0.0f, 0, 0.0f, 0).has_value());         // NaN
  EXPECT_FALSE(float_convert_params(1.0f, 0, -1.0f, 0).has_value());
}

// XNNPACK's ADD parameters: ratios 1 and 1/2 of the output scale give shift 20 (the larger
// multiplier has 21 bits) and exact multipliers; out-of-range ratios give nothing (TFLite then runs
// its built-in kernel).
TEST(XnnpackAddTest, ParamsAndRounding) {
  const auto p = xnnpack_add_params(0.5f, 10, 0.25f, 3, 0.5f, 7);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->shift, 20);
  EXPECT_EQ(p->multiplier1, 1 << 20);
  EXPECT_EQ(p->multiplier2, 1 << 19);
  EXPECT_EQ(p->bias, (1 << 19) - (1 << 20) * 10 - (1 << 19) * 3);
  const QuantizedRange full{0, 255};
  // (12 - 10) * 1 + (4 - 3) * 0.5 = 2.5: half up to 3, plus 7.
  EXPECT_EQ(add_xnnpack(12, 4, *p, full), 10);
  // (9 - 10) + (2 - 3) * 0.5 = -1.5: half up to -1 (TFLite's fixed point gives -2).
  EXPECT_EQ(add_xnnpack(9, 2, *p, full), 6);
  const AddQuantization fixed = add_quantization(0.5f, 10, 0.25f, 3, 0.5f, 7);
  EXPECT_EQ(add_quantized(9, 2, fixed, full), 5);
  // Clamped to the activation range.
  EXPECT_EQ(add_xnnpack(255, 255, *p, {0, 100}), 100);
  EXPECT_FALSE(xnnpack_add_params(1.0f, 0, 1.0f, 0, 1.0f / 300, 0).has_value());  // ratio 300
  EXPECT_FALSE(xnnpack_add_params(1.0f, 0, 0.0001f, 0, 1.0f, 0).has_value());     // 1e-4
  EXPECT_TRUE(xnnpack_add_params(1.0f, 0, 1.0f / 1024, 0, 1.0f, 0).has_value());  // 2^-10
}

// The vector kernels' one-floor form equals the two roundings of
// multiply_by_quantized_multiplier for every right shift, ties and negative values included.
TEST(SingleRoundingShiftTest, MatchesMultiplyByQuantizedMultiplier) {
  for (const double real : {0.5, 0.75, 1.0 / 3.0, 0.0123, 3e-5, 4.7e-10}) {
    const FixedPointMultiplier m = quantize_multiplier(real);
    ASSERT_LE(m.shift, 0);
    const SingleRoundingShift s = single_rounding_shift(-m.shift);
    for (int64_t x = -70000; x <= 70000; x += 7) {
      const int64_t p = x * m.multiplier;
      const int64_t one_floor =
          (p + s.nudge - (p < -(int64_t{1} << 30) ? s.correction : 0)) >> s.shift;
      EXPECT_EQ(one_floor, multiply_by_quantized_multiplier(static_cast<int32_t>(x), m))
          << real << " " << x;
    }
  }
}

TEST(RequantizeAccumulatorTest, PicksTheArithmetic) {
  const QuantizedRange range{0, 255};
  const FixedPointMultiplier m = quantize_multiplier(1.0 / 3.0);
  // Each arithmetic is its own function's; below the range both clamp to its minimum.
  EXPECT_EQ(requantize_accumulator(1000, m, 1.0f / 3, 5, range, Requantization::kFixedPoint),
            offset_and_clamp(multiply_by_quantized_multiplier(1000, m), 5, range));
  EXPECT_EQ(requantize_accumulator(1000, m, 1.0f / 3, 5, range, Requantization::kXnnpack),
            requantize_float(1000, 1.0f / 3, 5, range));
  EXPECT_EQ(requantize_accumulator(-1000, m, 1.0f / 3, 5, range, Requantization::kXnnpack), 0);
}

}  // namespace
}  // namespace qseg::quant

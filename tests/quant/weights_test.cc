// Tests of quant/weights.h and of the fake-quant helpers of quant.h, with their edge cases.
// Edge cases: zero range, a range without 0, negative values, ties at .5, an all-zero int8
// channel; the helpers are those training and the converter share.
#include "quant/weights.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <vector>

namespace qseg::quant {
namespace {

TEST(Uint8Weights, AllZeroWeightsGetScaleOneAndTheirZeroPoint) {
  const std::vector<float> w(6, 0.0f);
  const Uint8Weights q = quantize_weights_uint8(w.data(), 6);
  EXPECT_EQ(q.scale, 1.0f);
  EXPECT_EQ(q.zero_point, 1);  // the narrow range's lowest code
  for (uint8_t code : q.codes) EXPECT_EQ(code, q.zero_point);
}

TEST(Uint8Weights, ARangeWithoutZeroIsWidenedToContainIt) {
  const std::vector<float> positive = {0.5f, 1.0f, 2.0f};
  const Uint8Weights p = quantize_weights_uint8(positive.data(), 3);
  EXPECT_EQ(p.zero_point, 1);
  EXPECT_FLOAT_EQ(p.scale, 2.0f / 254.0f);
  EXPECT_EQ(p.codes.back(), 255);
  const std::vector<float> negative = {-2.0f, -1.0f, -0.5f};
  const Uint8Weights n = quantize_weights_uint8(negative.data(), 3);
  EXPECT_EQ(n.zero_point, 255);
  EXPECT_EQ(n.codes.front(), 1);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_NEAR((p.codes[i] - p.zero_point) * p.scale, positive[i], p.scale / 2);
    EXPECT_NEAR((n.codes[i] - n.zero_point) * n.scale, negative[i], n.scale / 2);
  }
}

// [-127, 127] on codes 1..255: scale 1, zero point 128, so w is a whole number of steps plus w's
// fraction. FakeQuant rounds half up: -0.5 goes to 0, 0.5 to 1.
TEST(Uint8Weights, OnTheGridTiesRoundUpAsFakeQuant) {
  const std::vector<float> w = {-127.0f, -0.5f, 0.5f, 1.5f, 127.0f};
  const Uint8Weights q = quantize_weights_uint8(w.data(), 5);
  ASSERT_EQ(q.scale, 1.0f);
  ASSERT_EQ(q.zero_point, 128);
  EXPECT_EQ(q.codes, (std::vector<uint8_t>{1, 128, 129, 130, 255}));
  // Each code is the one training's fake quantization rounds the weight to.
  const FakeQuantGrid grid = fake_quant_grid(-127.0f, 127.0f, 8, true);
  for (size_t i = 0; i < w.size(); ++i)
    EXPECT_EQ((q.codes[i] - q.zero_point) * q.scale, fake_quantize_value(w[i], grid)) << w[i];
}

// A given scale and zero point (an imported file): lround, half away from zero, saturated.
TEST(Uint8Weights, OnAGivenGridTiesRoundAwayFromZeroAndSaturate) {
  const std::vector<float> w = {-2.5f, -0.5f, 0.5f, 2.5f, -1000.0f, 1000.0f};
  const Uint8Weights q = quantize_weights_uint8(w.data(), 6, 1.0f, 100);
  EXPECT_EQ(q.scale, 1.0f);
  EXPECT_EQ(q.zero_point, 100);
  EXPECT_EQ(q.codes, (std::vector<uint8_t>{97, 99, 101, 103, 0, 255}));
}

// Dequantized codes of a file come back as the same codes.
TEST(Uint8Weights, AGivenGridGivesAFilesCodesBack) {
  const float scale = 0.0123f;
  const int32_t zero_point = 131;
  std::vector<float> w;
  for (int code = 0; code < 256; ++code) w.push_back(scale * static_cast<float>(code - zero_point));
  const Uint8Weights q = quantize_weights_uint8(w.data(), 256, scale, zero_point);
  for (int code = 0; code < 256; ++code) EXPECT_EQ(q.codes[code], code);
}

// Output channels first ([out, kh, kw, in] of CONV_2D): channel = i / inner.
TEST(Int8PerChannelWeights, AZeroChannelGetsScaleOneAndZeroCodes) {
  const std::vector<float> w = {0.0f,   0.0f,   0.0f,  //
                                127.0f, -2.5f,  2.5f,  //
                                -0.5f,  0.125f, 0.5f};
  const Int8PerChannelWeights q = quantize_weights_int8_per_channel(w.data(), 9, 3, 3);
  EXPECT_EQ(q.scales, (std::vector<float>{1.0f, 1.0f, 0.5f / 127.0f}));
  const std::vector<int8_t> want = {0, 0, 0, 127, -3, 3, -127, 32, 127};
  EXPECT_EQ(q.codes, want);
}

// Output channels last ([1, kh, kw, out] of DEPTHWISE_CONV_2D): inner 1, channel = i % channels.
TEST(Int8PerChannelWeights, ChannelsLastAndNegativeValues) {
  const std::vector<float> w = {-1.0f, 0.0f, -254.0f, 0.25f, 0.0f, 127.0f};
  const Int8PerChannelWeights q = quantize_weights_int8_per_channel(w.data(), 6, 3, 1);
  EXPECT_EQ(q.scales, (std::vector<float>{1.0f / 127.0f, 1.0f, 2.0f}));
  const std::vector<int8_t> want = {-127, 0, -127, 32, 0, 64};  // 127 / 2 = 63.5 -> 64
  EXPECT_EQ(q.codes, want);
  EXPECT_EQ(int8_channel_scale(0.0f), 1.0f);
  EXPECT_EQ(int8_weight_code(-2.5f, 1.0f), -3);       // half away from zero
  EXPECT_EQ(int8_weight_code(-1000.0f, 1.0f), -127);  // never -128
}

TEST(Int32Bias, ScaleIsInputTimesWeightScaleAndTiesGoToEven) {
  const std::vector<float> b = {1.0f, 0.0625f, 0.1875f, -0.0625f, -0.1875f};
  const Int32Bias q = quantize_bias(b.data(), 5, 0.5f, {0.25f});
  EXPECT_EQ(q.scales, std::vector<float>{0.125f});  // one scale: per-tensor weights
  EXPECT_EQ(q.values, (std::vector<int32_t>{8, 0, 2, 0, -2}));
}

TEST(Int32Bias, PerChannelScalesAndSaturation) {
  const std::vector<float> b = {1e30f, -1e30f, 3.0f};
  const Int32Bias q = quantize_bias(b.data(), 3, 2.0f, {0.5f, 1.0f, 0.25f});
  EXPECT_EQ(q.scales, (std::vector<float>{1.0f, 2.0f, 0.5f}));
  EXPECT_EQ(q.values, (std::vector<int32_t>{std::numeric_limits<int32_t>::max(),
                                            std::numeric_limits<int32_t>::min(), 6}));
  EXPECT_EQ(bias_scale(0.1f, 0.3f), 0.1f * 0.3f);
  EXPECT_EQ(quantize_bias_value(0.0f, 0.125f), 0);
}

TEST(FakeQuantHelpers, RangeWithZeroAndBounds) {
  EXPECT_EQ(range_with_zero(0.5f, 2.0f).min, 0.0f);
  EXPECT_EQ(range_with_zero(0.5f, 2.0f).max, 2.0f);
  EXPECT_EQ(range_with_zero(-3.0f, -1.0f).max, 0.0f);
  EXPECT_EQ(range_with_zero(-3.0f, -1.0f).min, -3.0f);
  EXPECT_EQ(range_with_zero(0.0f, 0.0f).max, 0.0f);
  const FakeQuantGrid grid = fake_quant_grid(-2.0f, 8.0f, 8, false);
  const FloatRange relu6 = fake_quant_bounds(grid, activation_range_float(Activation::kRelu6));
  EXPECT_EQ(relu6.min, 0.0f);
  EXPECT_EQ(relu6.max, 6.0f);
  const FloatRange none = fake_quant_bounds(grid, activation_range_float(Activation::kNone));
  EXPECT_EQ(none.min, grid.nudged_min);
  EXPECT_EQ(none.max, grid.nudged_max);
}

TEST(FakeQuantHelpers, ClampedRoundingIsFakeQuantizeValue) {
  const FakeQuantGrid grid = fake_quant_grid(-1.0f, 3.0f, 8, false);
  for (float v : {-5.0f, -1.0f, -0.01f, 0.0f, 0.3f, 1.7f, 2.99f, 3.0f, 9.0f}) {
    EXPECT_EQ(fake_quantize_clamped(v, grid.nudged_min, grid.nudged_max, grid.nudged_min,
                                    grid.scale, 1.0f / grid.scale),
              fake_quantize_value(v, grid))
        << v;
  }
  EXPECT_EQ(fake_quant_steps(2.5f, 0.0f, 1.0f), 3.0f);  // ties up
  EXPECT_EQ(fake_quant_steps(0.0f, 0.0f, 1.0f), 0.0f);
}

}  // namespace
}  // namespace qseg::quant

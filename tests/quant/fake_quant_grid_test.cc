// quant::fake_quant_grid and quant::fake_quantize_value: TensorFlow's FakeQuant grid (nudged
// range, narrow range) and rounding, which training's fake quantization uses.
#include <gtest/gtest.h>

#include "quant/quant.h"

namespace qseg::quant {
namespace {

TEST(FakeQuantGridTest, WideRangeMatchesChooseQuantization) {
  const FakeQuantGrid g = fake_quant_grid(-1.0f, 3.0f, 8, false);
  const ScaleZeroPoint q = choose_quantization(-1.0f, 3.0f, 0, 255);
  EXPECT_EQ(g.qmin, 0);
  EXPECT_EQ(g.qmax, 255);
  EXPECT_EQ(g.scale, q.scale);
  EXPECT_EQ(g.zero_point, q.zero_point);
  EXPECT_FLOAT_EQ(g.nudged_min, -q.zero_point * q.scale);
  EXPECT_FLOAT_EQ(g.nudged_max, (255 - q.zero_point) * q.scale);
}

TEST(FakeQuantGridTest, NarrowRangeLeavesOutTheLowestCode) {
  const FakeQuantGrid g = fake_quant_grid(-1.27f, 1.27f, 8, true);
  EXPECT_EQ(g.qmin, 1);
  EXPECT_EQ(g.qmax, 255);
  EXPECT_FLOAT_EQ(g.scale, 2.54f / 254.0f);
  EXPECT_EQ(g.zero_point, 128);  // symmetric: 0 in the middle of 1..255
  EXPECT_NEAR(g.nudged_min, -1.27f, 1e-6);
  EXPECT_NEAR(g.nudged_max, 1.27f, 1e-6);
}

TEST(FakeQuantGridTest, RangesAreWidenedToContainZero) {
  const FakeQuantGrid positive = fake_quant_grid(0.5f, 6.0f, 8, false);
  EXPECT_EQ(positive.zero_point, 0);
  EXPECT_FLOAT_EQ(positive.nudged_min, 0.0f);
  const FakeQuantGrid negative = fake_quant_grid(-6.0f, -0.5f, 8, false);
  EXPECT_EQ(negative.zero_point, 255);
  EXPECT_FLOAT_EQ(negative.nudged_max, 0.0f);
}

TEST(FakeQuantGridTest, ValuesRoundHalfUpAndClamp) {
  const FakeQuantGrid g = fake_quant_grid(0.0f, 255.0f, 8, false);  // step 1
  EXPECT_EQ(fake_quantize_value(2.5f, g), 3.0f);
  EXPECT_EQ(fake_quantize_value(2.49f, g), 2.0f);
  EXPECT_EQ(fake_quantize_value(-7.0f, g), 0.0f);
  EXPECT_EQ(fake_quantize_value(300.0f, g), 255.0f);
  const FakeQuantGrid centered = fake_quant_grid(-128.0f, 127.0f, 8, false);
  EXPECT_EQ(fake_quantize_value(-2.5f, centered), -2.0f);  // half up from the grid's origin
  EXPECT_EQ(fake_quantize_value(0.0f, centered), 0.0f);    // 0 is exact
}

}  // namespace
}  // namespace qseg::quant

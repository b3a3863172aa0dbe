// RESIZE_NEAREST_NEIGHBOR kernel: the source index rules against TFLite's formulas evaluated in
// double (where float rounding cannot matter) and on the sizes where float and TFLite's uint8
// fixed point part, random shapes and types against a per-pixel gather, errors.
#include "kernels/resize_nearest_neighbor.h"

#include <gtest/gtest.h>

#include <cmath>

#include "kernel_test_util.h"

namespace qseg::test {
namespace {

using kernels::nearest_source_index;
using kernels::nearest_source_index_fixed_point;

TEST(ResizeNearestNeighborTest, SourceIndicesOnExactScales) {
  // Integer up- and downscales: the float products are exact, so the rule is plain arithmetic.
  for (int in = 1; in <= 8; ++in) {
    for (int factor = 1; factor <= 4; ++factor) {
      const int up = in * factor;
      for (int i = 0; i < up; ++i) {
        EXPECT_EQ(nearest_source_index(i, in, up, false, false), i / factor);
        EXPECT_EQ(nearest_source_index_fixed_point(i, in, up), i / factor);
        // Half-pixel centers sample the input pixel whose area holds the output pixel's center.
        EXPECT_EQ(nearest_source_index(i, in, up, false, true),
                  static_cast<int>(std::floor((i + 0.5) / factor)));
      }
      for (int i = 0; i < in; ++i) {
        EXPECT_EQ(nearest_source_index(i, up, in, false, false), i * factor);
      }
    }
  }
  // align_corners: (in - 1) / (out - 1) with rounding half away from zero; 3 -> 5 has scale 0.5.
  const int expected[] = {0, 1, 1, 2, 2};  // round(0, 0.5, 1, 1.5, 2)
  for (int i = 0; i < 5; ++i) EXPECT_EQ(nearest_source_index(i, 3, 5, true, false), expected[i]);
  EXPECT_EQ(nearest_source_index(0, 4, 1, true, false), 0);  // out 1: scale in / out
}

TEST(ResizeNearestNeighborTest, FloatAndFixedPointPartWhereFloatRoundsDown) {
  // 2 / 82 in float is just below 1/41, so 41 * scale floors to 0; the fixed point gives 1.
  EXPECT_EQ(nearest_source_index(41, 2, 82, false, false), 0);
  EXPECT_EQ(nearest_source_index_fixed_point(41, 2, 82), 1);
}

TEST(ResizeNearestNeighborTest, RandomShapesGatherTheIndexedPixels) {
  std::mt19937 rng(97);
  const DataType types[] = {DataType::kUInt8, DataType::kInt8, DataType::kFloat32, DataType::kInt32,
                            DataType::kInt64};
  for (int trial = 0; trial < 90; ++trial) {
    const DataType type = types[trial % 5];
    const bool align = trial % 3 == 1, half = trial % 3 == 2;
    const int n = 1 + static_cast<int>(rng() % 2), h = 1 + static_cast<int>(rng() % 9),
              w = 1 + static_cast<int>(rng() % 9), c = 1 + static_cast<int>(rng() % 4);
    const int oh = 1 + static_cast<int>(rng() % 20), ow = 1 + static_cast<int>(rng() % 20);
    const Quantization q = type == DataType::kUInt8 || type == DataType::kInt8
                               ? per_tensor(0.3f, type == DataType::kUInt8 ? 100 : -4)
                               : Quantization{};
    OpGraph g;
    const int in = g.add_tensor(type, {n, h, w, c}, q);
    const int size = g.add_constant(DataType::kInt32, {2}, std::vector<int32_t>{oh, ow});
    const int out = g.add_tensor(type, {n, oh, ow, c}, q);
    g.set_op(OpType::kResizeNearestNeighbor, {in, size}, {out},
             ResizeNearestNeighborOptions{align, half});
    const size_t e = data_type_size(type);
    const std::vector<uint8_t> x =
        random_ints<uint8_t>(static_cast<size_t>(g.tensor(in).num_elements()) * e, 0, 255, rng);
    const std::vector<uint8_t> y = g.run({{in, x}}, 1 + trial % 3);
    ASSERT_EQ(y.size(), static_cast<size_t>(g.tensor(out).num_elements()) * e);
    const bool fixed = type == DataType::kUInt8 && !align && !half;
    size_t i = 0;
    for (int b = 0; b < n; ++b) {
      for (int oy = 0; oy < oh; ++oy) {
        const int sy = fixed ? nearest_source_index_fixed_point(oy, h, oh)
                             : nearest_source_index(oy, h, oh, align, half);
        for (int ox = 0; ox < ow; ++ox) {
          const int sx = fixed ? nearest_source_index_fixed_point(ox, w, ow)
                               : nearest_source_index(ox, w, ow, align, half);
          ASSERT_GE(sy, 0);
          ASSERT_LT(sy, h);
          ASSERT_GE(sx, 0);
          ASSERT_LT(sx, w);
          for (int ch = 0; ch < c; ++ch, ++i) {
            const uint8_t* expected = x.data() + (((b * h + sy) * w + sx) * c + ch) * e;
            ASSERT_TRUE(std::equal(expected, expected + e, y.begin() + i * e))
                << "trial " << trial << " at " << b << "," << oy << "," << ox << "," << ch;
          }
        }
      }
    }
  }
}

TEST(ResizeNearestNeighborErrorTest, Errors) {
  OpGraph g;
  const int in = g.add_tensor(DataType::kFloat32, {1, 2, 2, 1});
  const int size = g.add_constant(DataType::kInt32, {2}, std::vector<int32_t>{4, 0});
  const int out = g.add_tensor(DataType::kFloat32, {1, 4, 4, 1});
  g.set_op(OpType::kResizeNearestNeighbor, {in, size}, {out}, ResizeNearestNeighborOptions{});
  EXPECT_EQ(g.create_error(), "op 0 (RESIZE_NEAREST_NEIGHBOR): size must be positive, got [4,0]");
  g.tensor(size).data = to_bytes(std::vector<int32_t>{4, 4});
  EXPECT_EQ(g.create_error(), "");
  g.op().options = ResizeNearestNeighborOptions{true, true};
  EXPECT_EQ(g.create_error(),
            "op 0 (RESIZE_NEAREST_NEIGHBOR): align_corners and half_pixel_centers cannot both be "
            "set");
  g.op().options = ResizeNearestNeighborOptions{};
  g.tensor(out).shape = {1, 4, 5, 1};
  EXPECT_EQ(g.create_error(),
            "op 0 (RESIZE_NEAREST_NEIGHBOR): output shape [1,4,5,1] does not match the computed "
            "shape [1,4,4,1]");
  g.tensor(in).shape = {2, 2, 1};
  EXPECT_NE(g.create_error().find("input"), std::string::npos) << g.create_error();
}

}  // namespace
}  // namespace qseg::test

// SPACE_TO_BATCH_ND and BATCH_TO_SPACE_ND kernels: random shapes, blocks, paddings, crops and
// types against the coordinate rules written out per element, that BATCH_TO_SPACE_ND undoes
// SPACE_TO_BATCH_ND, rank-3 inputs, errors.
#include <gtest/gtest.h>

#include "kernel_test_util.h"

namespace qseg::test {
namespace {

struct Layout {
  int n, h, w, c;
};

const DataType kTypes[] = {DataType::kUInt8, DataType::kInt8, DataType::kFloat32, DataType::kInt32,
                           DataType::kInt64};

Quantization quant_of(DataType type) {
  if (type == DataType::kUInt8) return per_tensor(0.25f, 77);
  if (type == DataType::kInt8) return per_tensor(0.25f, -20);
  return {};
}

std::vector<uint8_t> pad_element(DataType type) {
  std::vector<uint8_t> pad(data_type_size(type), 0);
  if (type == DataType::kUInt8) pad[0] = 77;
  if (type == DataType::kInt8) pad[0] = static_cast<uint8_t>(-20);
  return pad;
}

TEST(SpaceToBatchNdTest, RandomShapesMatchTheCoordinateRule) {
  std::mt19937 rng(38);
  for (int trial = 0; trial < 120; ++trial) {
    const DataType type = kTypes[trial % 5];
    const int bh = 1 + static_cast<int>(rng() % 3), bw = 1 + static_cast<int>(rng() % 3);
    const int top = static_cast<int>(rng() % 3), left = static_cast<int>(rng() % 3);
    const Layout in{1 + static_cast<int>(rng() % 2), 1 + static_cast<int>(rng() % 7),
                    1 + static_cast<int>(rng() % 7), 1 + static_cast<int>(rng() % 5)};
    // Bottom and right paddings that make the padded size a multiple of the block.
    const int bottom = (bh - (top + in.h) % bh) % bh + bh * static_cast<int>(rng() % 2);
    const int right = (bw - (left + in.w) % bw) % bw;
    const Layout out{in.n * bh * bw, (top + in.h + bottom) / bh, (left + in.w + right) / bw, in.c};
    OpGraph g;
    const int input = g.add_tensor(type, {in.n, in.h, in.w, in.c}, quant_of(type));
    const int block = g.add_constant(DataType::kInt32, {2}, std::vector<int32_t>{bh, bw});
    const int paddings =
        g.add_constant(DataType::kInt64, {2, 2}, std::vector<int64_t>{top, bottom, left, right});
    const int output = g.add_tensor(type, {out.n, out.h, out.w, out.c}, quant_of(type));
    g.set_op(OpType::kSpaceToBatchNd, {input, block, paddings}, {output});
    const size_t e = data_type_size(type);
    const std::vector<uint8_t> x =
        random_ints<uint8_t>(static_cast<size_t>(g.tensor(input).num_elements()) * e, 0, 255, rng);
    const std::vector<uint8_t> y = g.run({{input, x}}, 1 + trial % 3);
    ASSERT_EQ(y.size(), static_cast<size_t>(g.tensor(output).num_elements()) * e);
    const std::vector<uint8_t> pad = pad_element(type);
    size_t i = 0;
    for (int b = 0; b < out.n; ++b) {
      for (int oy = 0; oy < out.h; ++oy) {
        for (int ox = 0; ox < out.w; ++ox) {
          for (int c = 0; c < out.c; ++c, ++i) {
            const int n = b % in.n, phase = b / in.n;
            const int iy = oy * bh + phase / bw - top, ix = ox * bw + phase % bw - left;
            const bool inside = iy >= 0 && iy < in.h && ix >= 0 && ix < in.w;
            const uint8_t* expected =
                inside ? x.data() + (((n * in.h + iy) * in.w + ix) * in.c + c) * e : pad.data();
            ASSERT_TRUE(std::equal(expected, expected + e, y.begin() + i * e))
                << "trial " << trial << " out " << b << "," << oy << "," << ox << "," << c;
          }
        }
      }
    }
  }
}

TEST(BatchToSpaceNdTest, RandomShapesMatchTheCoordinateRuleAndUndoSpaceToBatch) {
  std::mt19937 rng(37);
  for (int trial = 0; trial < 120; ++trial) {
    const DataType type = kTypes[trial % 5];
    const int bh = 1 + static_cast<int>(rng() % 3), bw = 1 + static_cast<int>(rng() % 3);
    const Layout in{bh * bw * (1 + static_cast<int>(rng() % 2)), 1 + static_cast<int>(rng() % 4),
                    1 + static_cast<int>(rng() % 4), 1 + static_cast<int>(rng() % 5)};
    const int top = static_cast<int>(rng() % bh), bottom = static_cast<int>(rng() % bh);
    const int left = static_cast<int>(rng() % bw), right = static_cast<int>(rng() % bw);
    const Layout out{in.n / (bh * bw), std::max(in.h * bh - top - bottom, 0),
                     std::max(in.w * bw - left - right, 0), in.c};
    if (out.h == 0 || out.w == 0) continue;
    OpGraph g;
    const int input = g.add_tensor(type, {in.n, in.h, in.w, in.c}, quant_of(type));
    const int block = g.add_constant(DataType::kInt64, {2}, std::vector<int64_t>{bh, bw});
    const int crops =
        g.add_constant(DataType::kInt32, {2, 2}, std::vector<int32_t>{top, bottom, left, right});
    const int output = g.add_tensor(type, {out.n, out.h, out.w, out.c}, quant_of(type));
    g.set_op(OpType::kBatchToSpaceNd, {input, block, crops}, {output});
    const size_t e = data_type_size(type);
    const std::vector<uint8_t> x =
        random_ints<uint8_t>(static_cast<size_t>(g.tensor(input).num_elements()) * e, 0, 255, rng);
    const std::vector<uint8_t> y = g.run({{input, x}}, 1 + trial % 3);
    ASSERT_EQ(y.size(), static_cast<size_t>(g.tensor(output).num_elements()) * e);
    size_t i = 0;
    for (int n = 0; n < out.n; ++n) {
      for (int oy = 0; oy < out.h; ++oy) {
        for (int ox = 0; ox < out.w; ++ox) {
          for (int c = 0; c < out.c; ++c, ++i) {
            const int py = oy + top, px = ox + left;
            const int b = ((py % bh) * bw + px % bw) * out.n + n;
            const uint8_t* expected =
                x.data() + (((b * in.h + py / bh) * in.w + px / bw) * in.c + c) * e;
            ASSERT_TRUE(std::equal(expected, expected + e, y.begin() + i * e))
                << "trial " << trial << " out " << n << "," << oy << "," << ox << "," << c;
          }
        }
      }
    }
  }
}

// SPACE_TO_BATCH_ND then BATCH_TO_SPACE_ND with crops equal to the paddings gives the input back:
// how atrous convolutions were exported before CONV_2D had dilation.
TEST(BatchToSpaceNdTest, UndoesSpaceToBatchNdOnRank3) {
  OpGraph s2b;
  const int in = s2b.add_tensor(DataType::kFloat32, {2, 5, 3});
  const int block = s2b.add_constant(DataType::kInt32, {1}, std::vector<int32_t>{2});
  const int pads = s2b.add_constant(DataType::kInt32, {1, 2}, std::vector<int32_t>{2, 1});
  const int mid = s2b.add_tensor(DataType::kFloat32, {4, 4, 3});
  s2b.set_op(OpType::kSpaceToBatchNd, {in, block, pads}, {mid});
  std::mt19937 rng(5);
  const std::vector<float> x = random_floats(30, -4, 4, rng);
  const std::vector<uint8_t> batched = s2b.run({{in, to_bytes(x)}});
  OpGraph b2s;
  const int b_in = b2s.add_tensor(DataType::kFloat32, {4, 4, 3});
  const int b_block = b2s.add_constant(DataType::kInt32, {1}, std::vector<int32_t>{2});
  const int crops = b2s.add_constant(DataType::kInt32, {1, 2}, std::vector<int32_t>{2, 1});
  const int b_out = b2s.add_tensor(DataType::kFloat32, {2, 5, 3});
  b2s.set_op(OpType::kBatchToSpaceNd, {b_in, b_block, crops}, {b_out});
  EXPECT_EQ(from_bytes<float>(b2s.run({{b_in, batched}}, 2)), x);
}

TEST(SpaceToBatchNdErrorTest, Errors) {
  OpGraph g;
  const int in = g.add_tensor(DataType::kFloat32, {1, 5, 4, 2});
  const int block = g.add_constant(DataType::kInt32, {2}, std::vector<int32_t>{2, 0});
  const int pads = g.add_constant(DataType::kInt32, {2, 2}, std::vector<int32_t>{0, 1, 0, 0});
  const int out = g.add_tensor(DataType::kFloat32, {4, 3, 2, 2});
  g.set_op(OpType::kSpaceToBatchNd, {in, block, pads}, {out});
  EXPECT_EQ(g.create_error(), "op 0 (SPACE_TO_BATCH_ND): block_shape values must be >= 1, got 0");
  g.tensor(block).data = to_bytes(std::vector<int32_t>{2, 2});
  EXPECT_EQ(g.create_error(), "");
  g.tensor(pads).data = to_bytes(std::vector<int32_t>{0, 0, 0, 0});
  EXPECT_EQ(g.create_error(),
            "op 0 (SPACE_TO_BATCH_ND): padded spatial shape 5x4 is not a multiple of the block "
            "shape 2x2");
  g.tensor(pads).data = to_bytes(std::vector<int32_t>{1, 0, 0, 0});
  g.tensor(out).shape = {4, 3, 2, 3};
  EXPECT_EQ(g.create_error(),
            "op 0 (SPACE_TO_BATCH_ND): output shape [4,3,2,3] does not match the computed shape "
            "[4,3,2,2]");
  g.tensor(out).shape = {4, 3, 2, 2};
  g.tensor(block).shape = {1};
  g.tensor(block).data = to_bytes(std::vector<int32_t>{2});
  EXPECT_EQ(g.create_error(), "op 0 (SPACE_TO_BATCH_ND): block_shape must have shape [2], got [1]");
  g.tensor(in).shape = {1, 5, 4, 2, 1};
  EXPECT_EQ(g.create_error(), "op 0 (SPACE_TO_BATCH_ND): input must have rank 3 or 4, got rank 5");

  OpGraph b;
  const int b_in = b.add_tensor(DataType::kUInt8, {3, 2, 2, 1}, per_tensor(1.0f, 0));
  const int b_block = b.add_constant(DataType::kInt32, {2}, std::vector<int32_t>{2, 2});
  const int crops = b.add_constant(DataType::kInt32, {2, 2}, std::vector<int32_t>{0, 0, 0, 0});
  const int b_out = b.add_tensor(DataType::kUInt8, {1, 4, 4, 1}, per_tensor(1.0f, 0));
  b.set_op(OpType::kBatchToSpaceNd, {b_in, b_block, crops}, {b_out});
  EXPECT_EQ(b.create_error(),
            "op 0 (BATCH_TO_SPACE_ND): input batch 3 is not a multiple of the block size 4");
  b.tensor(b_in).shape = {4, 2, 2, 1};
  EXPECT_EQ(b.create_error(), "");
  b.tensor(crops).data = to_bytes(std::vector<int32_t>{3, 2, 0, 0});
  EXPECT_EQ(b.create_error(), "op 0 (BATCH_TO_SPACE_ND): crops leave a spatial shape of -1x4");
}

}  // namespace
}  // namespace qseg::test

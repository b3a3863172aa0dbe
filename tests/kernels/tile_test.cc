// TILE kernel: random ranks, shapes, multiples and types against an element-by-element
// reference (output coordinate modulo the input's dims), multi-threaded; errors.
#include <gtest/gtest.h>

#include "kernel_test_util.h"

namespace qseg::test {
namespace {

// The flat input index of flat output index `i`: coordinates modulo the input dims.
int64_t tiled_source(int64_t i, const std::vector<int32_t>& in, const std::vector<int32_t>& out) {
  int64_t source = 0, in_stride = 1;
  for (size_t d = out.size(); d-- > 0;) {
    const int64_t coordinate = i % out[d];
    i /= out[d];
    source += (coordinate % in[d]) * in_stride;
    in_stride *= in[d];
  }
  return source;
}

TEST(TileTest, RandomShapesAndTypesMatchTheCoordinateRule) {
  std::mt19937 rng(21);
  const DataType types[] = {DataType::kUInt8, DataType::kInt8,  DataType::kFloat32,
                            DataType::kInt32, DataType::kInt64, DataType::kBool};
  for (int trial = 0; trial < 120; ++trial) {
    const DataType type = types[trial % 6];
    const size_t rank = 1 + rng() % 5;
    std::vector<int32_t> in_shape, out_shape;
    std::vector<int64_t> multiples;
    for (size_t d = 0; d < rank; ++d) {
      in_shape.push_back(1 + static_cast<int32_t>(rng() % 4));
      multiples.push_back(rng() % 4);  // 0 included: an empty output
      if (trial % 3 != 0 && multiples.back() == 0) multiples.back() = 1;
      out_shape.push_back(in_shape.back() * static_cast<int32_t>(multiples.back()));
    }
    OpGraph g;
    const int in = g.add_tensor(type, in_shape, per_tensor(0.5f, 3));
    const int m = trial % 2 == 0
                      ? g.add_constant(DataType::kInt32, {static_cast<int32_t>(rank)},
                                       std::vector<int32_t>(multiples.begin(), multiples.end()))
                      : g.add_constant(DataType::kInt64, {static_cast<int32_t>(rank)}, multiples);
    const int out = g.add_tensor(type, out_shape, per_tensor(0.5f, 3));
    g.set_op(OpType::kTile, {in, m}, {out});
    const size_t element = data_type_size(type);
    const int64_t in_elements = g.tensor(in).num_elements();
    std::vector<uint8_t> x = random_ints<uint8_t>(static_cast<size_t>(in_elements) * element, 0,
                                                  type == DataType::kBool ? 1 : 255, rng);
    const std::vector<uint8_t> y = g.run({{in, x}}, 1 + trial % 3);
    const int64_t out_elements = g.tensor(out).num_elements();
    ASSERT_EQ(y.size(), static_cast<size_t>(out_elements) * element);
    for (int64_t i = 0; i < out_elements; ++i) {
      const int64_t s = tiled_source(i, in_shape, out_shape);
      ASSERT_TRUE(std::equal(x.begin() + s * element, x.begin() + (s + 1) * element,
                             y.begin() + i * element))
          << "trial " << trial << " element " << i;
    }
  }
}

TEST(TileTest, DeepLabImagePoolingBroadcast) {
  // [1,1,1,C] -> [1,H,W,C]: the EdgeTPU DeepLab exports tile the pooled features over the map.
  OpGraph g;
  const int in = g.add_tensor(DataType::kUInt8, {1, 1, 1, 5}, per_tensor(0.1f, 7));
  const int m = g.add_constant(DataType::kInt32, {4}, std::vector<int32_t>{1, 3, 4, 1});
  const int out = g.add_tensor(DataType::kUInt8, {1, 3, 4, 5}, per_tensor(0.1f, 7));
  g.set_op(OpType::kTile, {in, m}, {out});
  const std::vector<uint8_t> x = {9, 8, 7, 6, 250};
  const std::vector<uint8_t> y = g.run({{in, x}}, 2);
  ASSERT_EQ(y.size(), 60u);
  for (size_t i = 0; i < y.size(); ++i) EXPECT_EQ(y[i], x[i % 5]) << i;
}

TEST(TileErrorTest, Errors) {
  OpGraph g;
  const int in = g.add_tensor(DataType::kFloat32, {2, 3});
  const int m = g.add_constant(DataType::kInt32, {2}, std::vector<int32_t>{2, -1});
  const int out = g.add_tensor(DataType::kFloat32, {4, 3});
  g.set_op(OpType::kTile, {in, m}, {out});
  EXPECT_EQ(g.create_error(), "op 0 (TILE): multiples must be >= 0, got -1");
  g.tensor(m).data = to_bytes(std::vector<int32_t>{2, 2});
  EXPECT_EQ(g.create_error(),
            "op 0 (TILE): output shape [4,3] does not match the computed shape [4,6]");
  g.tensor(m).data = to_bytes(std::vector<int32_t>{2, 1});
  EXPECT_EQ(g.create_error(), "");
  g.tensor(m).shape = {1};
  g.tensor(m).data = to_bytes(std::vector<int32_t>{2});
  EXPECT_EQ(g.create_error(), "op 0 (TILE): multiples holds 1 values for an input of rank 2");
  g.tensor(m).shape = {2};
  g.tensor(m).data = to_bytes(std::vector<int32_t>{2, 1});
  g.tensor(m).is_constant = false;
  EXPECT_EQ(g.create_error(), "op 0 (TILE): multiples must be a constant tensor");
  g.tensor(m).is_constant = true;
  g.tensor(m).data = to_bytes(std::vector<int32_t>{1 << 30, 1});
  EXPECT_EQ(g.create_error(), "op 0 (TILE): output dim 0 (2 x 1073741824) does not fit in int32");
  g.tensor(m).data = to_bytes(std::vector<int32_t>{2, 1});
  g.tensor(out).type = DataType::kUInt8;
  EXPECT_EQ(g.create_error(), "op 0 (TILE): output must be float32 like the input, got uint8");
  g.tensor(out).type = DataType::kFloat32;
  g.op().inputs = {in};
  EXPECT_EQ(g.create_error(), "op 0 (TILE): expected 2 inputs, got 1");
}

}  // namespace
}  // namespace qseg::test

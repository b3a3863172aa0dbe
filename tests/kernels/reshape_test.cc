// RESHAPE kernel: byte copies for any type, -1 inference and consistency checks, errors.
#include <gtest/gtest.h>

#include <limits>

#include "kernel_test_util.h"

namespace qseg::test {
namespace {

TEST(ReshapeTest, CopiesBytes) {
  OpGraph g;
  const int in = g.add_tensor(DataType::kInt64, {1, 2, 3});
  const int shape = g.add_constant(DataType::kInt32, {2}, std::vector<int32_t>{3, -1});
  const int out = g.add_tensor(DataType::kInt64, {3, 2});
  g.set_op(OpType::kReshape, {in, shape}, {out});
  const std::vector<int64_t> x = {1, -2, 3, int64_t{1} << 40, 5, 6};
  EXPECT_EQ(from_bytes<int64_t>(g.run({{in, to_bytes(x)}})), x);
}

TEST(ReshapeTest, ShapeFromOptionsOrOutput) {
  OpGraph g;
  const int in = g.add_tensor(DataType::kUInt8, {1, 4, 4, 1}, per_tensor(0.5f, 3));
  const int out = g.add_tensor(DataType::kUInt8, {1, 16}, per_tensor(0.5f, 3));
  g.set_op(OpType::kReshape, {in}, {out}, ReshapeOptions{{1, -1}});
  std::vector<uint8_t> x(16);
  for (int i = 0; i < 16; ++i) x[i] = static_cast<uint8_t>(i * 13);
  EXPECT_EQ(g.run({{in, x}}), x);
  g.op().options = ReshapeOptions{};  // no requested shape: the output's is used
  EXPECT_EQ(g.run({{in, x}}), x);
  g.op().inputs = {in, kNoTensor};
  EXPECT_EQ(g.create_error(), "");
  g.op().options = ReshapeOptions{{4, 4}};
  EXPECT_EQ(g.create_error(),
            "op 0 (RESHAPE): output shape [1,16] does not match the computed shape [4,4]");
}

TEST(ReshapeErrorTest, Errors) {
  OpGraph g;
  const int in = g.add_tensor(DataType::kFloat32, {2, 3});
  const int shape = g.add_constant(DataType::kInt32, {2}, std::vector<int32_t>{-1, -1});
  const int out = g.add_tensor(DataType::kFloat32, {3, 2});
  g.set_op(OpType::kReshape, {in, shape}, {out});
  EXPECT_EQ(g.create_error(), "op 0 (RESHAPE): the requested shape has more than one -1");
  g.tensor(shape).data = to_bytes(std::vector<int32_t>{-1, 4});
  EXPECT_EQ(g.create_error(),
            "op 0 (RESHAPE): cannot infer the -1 dim of the requested shape for 6 elements");
  // A file's dims multiply past int64 (the fuzzer's case): refused, not overflowed.
  const int32_t big = std::numeric_limits<int32_t>::max();
  g.tensor(shape).shape = {4};
  g.tensor(shape).data = to_bytes(std::vector<int32_t>{big, big, big, -1});
  EXPECT_EQ(g.create_error(),
            "op 0 (RESHAPE): the requested shape holds more elements than int64 can count");
  g.tensor(shape).shape = {2};
  g.tensor(shape).data = to_bytes(std::vector<int32_t>{3, 2});
  EXPECT_EQ(g.create_error(), "");
  g.tensor(out).shape = {7};
  EXPECT_EQ(g.create_error(),
            "op 0 (RESHAPE): output shape [7] holds 7 elements, the input shape [2,3] holds 6");
  g.tensor(out).shape = {3, 2};
  g.tensor(out).type = DataType::kInt32;
  EXPECT_EQ(g.create_error(), "op 0 (RESHAPE): output must be float32 like the input, got int32");
  g.tensor(out).type = DataType::kFloat32;
  g.op().outputs = {};
  EXPECT_EQ(g.create_error(), "op 0 (RESHAPE): expected 1 output(s), got 0");
}

}  // namespace
}  // namespace qseg::test

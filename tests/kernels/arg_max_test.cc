// ARG_MAX kernel: first index of the maximum along any axis (negative allowed), uint8/int8/float
// inputs, int32/int64 outputs, ties; and the errors.
#include <gtest/gtest.h>

#include "kernel_test_util.h"

namespace qseg::test {
namespace {

// The first index of the largest value along `axis` (non-negative), written out plainly.
template <typename T>
std::vector<int64_t> reference_arg_max(const std::vector<T>& x, const std::vector<int32_t>& shape,
                                       int axis) {
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; ++d) outer *= shape[d];
  for (size_t d = axis + 1; d < shape.size(); ++d) inner *= shape[d];
  const int n = shape[axis];
  std::vector<int64_t> out;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      std::vector<T> column;
      for (int a = 0; a < n; ++a) column.push_back(x[(o * n + a) * inner + i]);
      // std::max_element returns the first of equal largest elements.
      out.push_back(std::max_element(column.begin(), column.end()) - column.begin());
    }
  return out;
}

template <typename T, typename Out>
void check_arg_max(DataType type, std::vector<T> x, const std::vector<int32_t>& shape, int axis,
                   DataType axis_type, DataType out_type) {
  const int rank = static_cast<int>(shape.size());
  const int positive = axis < 0 ? axis + rank : axis;
  std::vector<int32_t> out_shape;
  for (int d = 0; d < rank; ++d) {
    if (d != positive) out_shape.push_back(shape[d]);
  }
  OpGraph g;
  const int in = g.add_tensor(type, shape, per_tensor(0.1f, 0));
  const int ax = axis_type == DataType::kInt32
                     ? g.add_constant(DataType::kInt32, {1}, std::vector<int32_t>{axis})
                     : g.add_constant(DataType::kInt64, {}, std::vector<int64_t>{axis});
  const int out = g.add_tensor(out_type, out_shape);
  g.set_op(OpType::kArgMax, {in, ax}, {out}, ArgMaxOptions{out_type});
  const auto expected = reference_arg_max(x, shape, positive);
  for (int threads : {1, 3}) {
    const auto actual = from_bytes<Out>(g.run({{in, to_bytes(x)}}, threads));
    ASSERT_EQ(actual.size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i)
      ASSERT_EQ(actual[i], expected[i]) << "element " << i;
  }
}

TEST(ArgMaxTest, Uint8LastAxisWithTies) {
  std::mt19937 rng(1);
  const std::vector<int32_t> shape = {1, 5, 7, 21};
  // Few distinct values: most maxima are tied.
  check_arg_max<uint8_t, int64_t>(DataType::kUInt8, random_ints<uint8_t>(735, 250, 255, rng), shape,
                                  3, DataType::kInt32, DataType::kInt64);
  check_arg_max<uint8_t, int32_t>(DataType::kUInt8, random_ints<uint8_t>(735, 0, 2, rng), shape, -1,
                                  DataType::kInt64, DataType::kInt32);
}

TEST(ArgMaxTest, EveryAxis) {
  std::mt19937 rng(2);
  const std::vector<int32_t> shape = {3, 4, 5, 2};
  for (int axis = -4; axis < 4; ++axis) {
    SCOPED_TRACE(axis);
    check_arg_max<int8_t, int64_t>(DataType::kInt8, random_ints<int8_t>(120, -128, -120, rng),
                                   shape, axis, DataType::kInt32, DataType::kInt64);
    check_arg_max<float, int32_t>(DataType::kFloat32, random_floats(120, -1, 1, rng), shape, axis,
                                  DataType::kInt64, DataType::kInt32);
  }
}

TEST(ArgMaxTest, TiesPickTheFirstIndex) {
  check_arg_max<uint8_t, int64_t>(DataType::kUInt8, {3, 9, 9, 1, 5, 5, 5, 5}, {2, 4}, 1,
                                  DataType::kInt32, DataType::kInt64);
  OpGraph g;
  const int in = g.add_tensor(DataType::kFloat32, {2, 3});
  const int ax = g.add_constant(DataType::kInt32, {}, std::vector<int32_t>{1});
  const int out = g.add_tensor(DataType::kInt32, {2});
  g.set_op(OpType::kArgMax, {in, ax}, {out});  // no options: the output tensor's type decides
  EXPECT_EQ(from_bytes<int32_t>(g.run({{in, to_bytes(std::vector<float>{-1, 2, 2, 7, 7, -7})}})),
            (std::vector<int32_t>{1, 0}));
}

TEST(ArgMaxTest, SizeOneAxis) {
  check_arg_max<uint8_t, int64_t>(DataType::kUInt8, {4, 2, 9}, {3, 1}, 1, DataType::kInt32,
                                  DataType::kInt64);
}

TEST(ArgMaxErrorTest, Errors) {
  OpGraph g;
  const int in = g.add_tensor(DataType::kUInt8, {1, 4, 4, 21}, per_tensor(0.1f, 0));
  const int ax = g.add_constant(DataType::kInt32, {1}, std::vector<int32_t>{3});
  const int out = g.add_tensor(DataType::kInt64, {1, 4, 4});
  g.set_op(OpType::kArgMax, {in, ax}, {out}, ArgMaxOptions{DataType::kInt64});
  EXPECT_EQ(g.create_error(), "");
  g.op().options = ArgMaxOptions{DataType::kInt32};
  EXPECT_EQ(g.create_error(),
            "op 0 (ARG_MAX): options say output_type int32 but the output is int64");
  g.op().options = ArgMaxOptions{DataType::kInt64};
  g.tensor(out).shape = {1, 4, 21};
  EXPECT_EQ(g.create_error(),
            "op 0 (ARG_MAX): output shape [1,4,21] does not match the computed shape [1,4,4]");
  g.tensor(out).shape = {1, 4, 4};
  g.tensor(ax).is_constant = false;
  EXPECT_EQ(g.create_error(), "op 0 (ARG_MAX): axis must be a constant tensor");
  g.tensor(ax).is_constant = true;
  g.tensor(ax).data = to_bytes(std::vector<int32_t>{4});
  EXPECT_EQ(g.create_error(), "op 0 (ARG_MAX): axis 4 is out of range for rank 4");
  g.tensor(ax).data = to_bytes(std::vector<int32_t>{-5});
  EXPECT_EQ(g.create_error(), "op 0 (ARG_MAX): axis -5 is out of range for rank 4");
  g.tensor(ax).data = to_bytes(std::vector<int32_t>{3});
  g.tensor(out).type = DataType::kUInt8;
  EXPECT_EQ(g.create_error(), "op 0 (ARG_MAX): output must be int32 or int64, got uint8");
  g.tensor(out).type = DataType::kInt64;
  g.tensor(in).type = DataType::kInt32;
  EXPECT_EQ(g.create_error(), "op 0 (ARG_MAX): input must be uint8, int8 or float32, got int32");
}

}  // namespace
}  // namespace qseg::test

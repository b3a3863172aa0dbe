// CAST kernel: every supported type pair against static_cast on values each pair defines
// (TFLite's rule), float to integer truncation and the saturation qseg defines where C++ does
// not, bool both ways, errors.
#include <gtest/gtest.h>

#include <limits>

#include "kernel_test_util.h"

namespace qseg::test {
namespace {

template <typename From, typename To>
void check_cast(DataType from, DataType to, const std::vector<From>& x,
                const std::vector<To>& expected) {
  OpGraph g;
  const auto n = static_cast<int32_t>(x.size());
  const int in = g.add_tensor(from, {1, n});
  const int out = g.add_tensor(to, {1, n});
  g.set_op(OpType::kCast, {in}, {out});
  const std::vector<uint8_t> y = g.run({{in, to_bytes(x)}}, 2);
  if constexpr (std::is_same_v<To, bool>) {
    ASSERT_EQ(y.size(), expected.size());
    for (size_t i = 0; i < y.size(); ++i) EXPECT_EQ(y[i], expected[i] ? 1 : 0) << i;
  } else {
    EXPECT_EQ(from_bytes<To>(y), expected) << data_type_name(from) << " -> " << data_type_name(to);
  }
}

// Every value of the integer type From, cast as static_cast casts it.
template <typename From, typename To>
void check_all_static_casts(DataType from, DataType to) {
  std::vector<From> x;
  std::vector<To> expected;
  std::mt19937 rng(static_cast<uint32_t>(static_cast<int>(from) * 16 + static_cast<int>(to)));
  for (int i = 0; i < 1000; ++i) {
    From v;
    if constexpr (std::is_floating_point_v<From>) {
      // Values every target type holds: [-128, 128) for int8, [0, 256) for uint8.
      const bool unsigned_to = std::is_same_v<To, uint8_t>;
      const bool small = std::is_same_v<To, int8_t> || unsigned_to;
      v = random_floats(1, unsigned_to ? -0.99f : (small ? -128.9f : -3e4f),
                        small ? (unsigned_to ? 255.9f : 127.9f) : 3e4f, rng)[0];
    } else {
      v = static_cast<From>(rng());
    }
    x.push_back(v);
    expected.push_back(static_cast<To>(v));
  }
  check_cast<From, To>(from, to, x, expected);
}

TEST(CastTest, IntegerAndFloatPairsMatchStaticCast) {
  check_all_static_casts<float, int32_t>(DataType::kFloat32, DataType::kInt32);
  check_all_static_casts<float, int64_t>(DataType::kFloat32, DataType::kInt64);
  check_all_static_casts<float, uint8_t>(DataType::kFloat32, DataType::kUInt8);
  check_all_static_casts<float, int8_t>(DataType::kFloat32, DataType::kInt8);
  check_all_static_casts<float, int16_t>(DataType::kFloat32, DataType::kInt16);
  check_all_static_casts<int32_t, float>(DataType::kInt32, DataType::kFloat32);
  check_all_static_casts<int32_t, int64_t>(DataType::kInt32, DataType::kInt64);
  check_all_static_casts<int32_t, uint8_t>(DataType::kInt32, DataType::kUInt8);
  check_all_static_casts<int32_t, int8_t>(DataType::kInt32, DataType::kInt8);
  check_all_static_casts<int64_t, int32_t>(DataType::kInt64, DataType::kInt32);
  check_all_static_casts<int64_t, float>(DataType::kInt64, DataType::kFloat32);
  check_all_static_casts<uint8_t, float>(DataType::kUInt8, DataType::kFloat32);
  check_all_static_casts<uint8_t, int32_t>(DataType::kUInt8, DataType::kInt32);
  check_all_static_casts<uint8_t, int8_t>(DataType::kUInt8, DataType::kInt8);
  check_all_static_casts<int8_t, float>(DataType::kInt8, DataType::kFloat32);
  check_all_static_casts<int8_t, int32_t>(DataType::kInt8, DataType::kInt32);
  check_all_static_casts<int8_t, uint8_t>(DataType::kInt8, DataType::kUInt8);
  check_all_static_casts<int16_t, float>(DataType::kInt16, DataType::kFloat32);
}

TEST(CastTest, QuantizationIsIgnoredAndFloatsTruncate) {
  OpGraph g;
  const int in = g.add_tensor(DataType::kUInt8, {3}, per_tensor(0.5f, 100));
  const int out = g.add_tensor(DataType::kFloat32, {3});
  g.set_op(OpType::kCast, {in}, {out});
  EXPECT_EQ(from_bytes<float>(g.run({{in, {0, 100, 255}}})), (std::vector<float>{0, 100, 255}));
  check_cast<float, int32_t>(DataType::kFloat32, DataType::kInt32, {2.9f, -2.9f, -0.5f, 0.5f},
                             {2, -2, 0, 0});
}

TEST(CastTest, OutOfRangeFloatsSaturateAndNanIsZero) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  check_cast<float, uint8_t>(DataType::kFloat32, DataType::kUInt8, {300.0f, -5.0f, nan, inf},
                             {255, 0, 0, 255});
  check_cast<float, int32_t>(
      DataType::kFloat32, DataType::kInt32, {3e9f, -3e9f, nan, -inf},
      {std::numeric_limits<int32_t>::max(), std::numeric_limits<int32_t>::min(), 0,
       std::numeric_limits<int32_t>::min()});
  check_cast<float, int64_t>(
      DataType::kFloat32, DataType::kInt64, {1e19f, -1e19f},
      {std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min()});
}

TEST(CastTest, Bool) {
  check_cast<float, bool>(DataType::kFloat32, DataType::kBool, {0.0f, -0.0f, 0.25f, -3.0f},
                          {false, false, true, true});
  check_cast<int32_t, bool>(DataType::kInt32, DataType::kBool, {0, 7, -1}, {false, true, true});
  // Any non-zero byte of a bool reads as true.
  OpGraph g;
  const int in = g.add_tensor(DataType::kBool, {3});
  const int out = g.add_tensor(DataType::kFloat32, {3});
  g.set_op(OpType::kCast, {in}, {out});
  EXPECT_EQ(from_bytes<float>(g.run({{in, {0, 1, 9}}})), (std::vector<float>{0, 1, 1}));
}

TEST(CastErrorTest, Errors) {
  OpGraph g;
  const int in = g.add_tensor(DataType::kFloat32, {2, 3});
  const int out = g.add_tensor(DataType::kInt32, {3, 2});
  g.set_op(OpType::kCast, {in}, {out});
  EXPECT_EQ(g.create_error(), "op 0 (CAST): output shape [3,2] must be the input's shape [2,3]");
  g.tensor(out).shape = {2, 3};
  EXPECT_EQ(g.create_error(), "");
  g.op().inputs = {in, in};
  EXPECT_EQ(g.create_error(), "op 0 (CAST): expected 1 inputs, got 2");
}

}  // namespace
}  // namespace qseg::test

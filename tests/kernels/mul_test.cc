// MUL and SUB kernels (uint8, int8, float32) against double math, in both requantizations:
// different scales, extreme zero points, saturation, activations, broadcasting (squeeze-excite's
// per-channel vector among them); and the prepare-time errors.
#include <gtest/gtest.h>

#include "kernel_test_util.h"

namespace qseg::test {
namespace {

struct BinaryCase {
  std::vector<int32_t> shape1 = {1, 5, 7, 3}, shape2 = {1, 5, 7, 3};
  float scale1 = 0.05f, scale2 = 0.04f, out_scale = 0.02f;
  int zp1 = 128, zp2 = 128, out_zp = 128;  // uint8 encoding (int8 cases subtract 128)
  Activation activation = Activation::kNone;
  uint32_t seed = 1;
};

std::ostream& operator<<(std::ostream& os, const BinaryCase& c) {
  return os << testing::PrintToString(c.shape1) << "," << testing::PrintToString(c.shape2)
            << " scales " << c.scale1 << "," << c.scale2 << "->" << c.out_scale << " zps " << c.zp1
            << "," << c.zp2 << "->" << c.out_zp << " act " << static_cast<int>(c.activation);
}

OpOptions options_of(OpType type, Activation activation) {
  if (type == OpType::kMul) return MulOptions{activation};
  return SubOptions{activation};
}

double apply(OpType type, double a, double b) { return type == OpType::kMul ? a * b : a - b; }

template <typename T>
void check_quantized(OpType type, const BinaryCase& c, DataType data_type, int offset) {
  std::mt19937 rng(c.seed);
  const int qmin = offset, qmax = offset + 255;
  const int zp1 = c.zp1 + offset, zp2 = c.zp2 + offset, out_zp = c.out_zp + offset;
  const auto a = random_ints<T>(element_count(c.shape1), qmin, qmax, rng);
  const auto b = random_ints<T>(element_count(c.shape2), qmin, qmax, rng);
  std::vector<std::pair<int64_t, int64_t>> sources;
  const std::vector<int32_t> out_shape = broadcast_sources(c.shape1, c.shape2, &sources);
  std::vector<int32_t> expected;
  for (auto [i, j] : sources) {
    const double real =
        apply(type, double{c.scale1} * (a[i] - zp1), double{c.scale2} * (b[j] - zp2));
    expected.push_back(
        quantize_double(activate(real, c.activation), c.out_scale, out_zp, qmin, qmax));
  }
  OpGraph g;
  const int x = g.add_tensor(data_type, c.shape1, per_tensor(c.scale1, zp1));
  const int y = g.add_tensor(data_type, c.shape2, per_tensor(c.scale2, zp2));
  const int out = g.add_tensor(data_type, out_shape, per_tensor(c.out_scale, out_zp));
  g.set_op(type, {x, y}, {out}, options_of(type, c.activation));
  for (const Requantization r : {Requantization::kXnnpack, Requantization::kFixedPoint}) {
    KernelOptions options;
    options.requantization = r;
    g.set_kernel_options(options);
    std::vector<uint8_t> first;
    for (int threads : {1, 3}) {
      const auto actual = g.run({{x, to_bytes(a)}, {y, to_bytes(b)}}, threads);
      // One step at most, on few values: ties round differently (half to even, twice).
      expect_close_quantized(
          from_bytes<T>(actual), expected, 1, few(expected.size()),
          std::string(op_type_name(type)) + " " + std::string(requantization_name(r)));
      if (first.empty()) first = actual;
      EXPECT_EQ(actual, first) << "results differ between thread counts";
    }
  }
}

std::vector<BinaryCase> cases() {
  std::vector<BinaryCase> all;
  auto add = [&](auto f) {
    BinaryCase c;
    c.seed = static_cast<uint32_t>(all.size() + 1);
    f(c);
    all.push_back(c);
  };
  add([](BinaryCase&) {});
  add([](BinaryCase& c) { c.shape1 = c.shape2 = {1, 1, 1, 1}; });
  add([](BinaryCase& c) {
    c.shape1 = c.shape2 = {2, 3, 5, 17};
    c.scale1 = 0.001f;
    c.scale2 = 0.5f;
    c.out_scale = 0.01f;
  });
  add([](BinaryCase& c) { c.out_scale = 0.0004f; });  // saturates
  add([](BinaryCase& c) {
    c.zp1 = 0;
    c.zp2 = 255;
    c.out_zp = 0;
  });
  add([](BinaryCase& c) {
    c.zp1 = 255;
    c.zp2 = 0;
    c.out_zp = 255;
  });
  add([](BinaryCase& c) {
    c.activation = Activation::kRelu6;
    c.out_zp = 20;
  });
  add([](BinaryCase& c) {
    c.activation = Activation::kRelu;
    c.out_zp = 60;
  });
  add([](BinaryCase& c) {
    c.activation = Activation::kReluN1To1;
    c.out_scale = 0.01f;
  });
  add([](BinaryCase& c) {  // squeeze-excite: a per-channel vector over H and W
    c.shape1 = {1, 9, 9, 24};
    c.shape2 = {1, 1, 1, 24};
    c.scale2 = 1.0f / 256;
    c.zp2 = 0;
  });
  add([](BinaryCase& c) {
    c.shape1 = {1, 1, 1, 16};
    c.shape2 = {1, 6, 5, 16};
  });
  add([](BinaryCase& c) {
    c.shape1 = {4, 1};
    c.shape2 = {3};
  });
  add([](BinaryCase& c) {
    c.shape1 = {7};
    c.shape2 = {2, 1, 7};
    c.scale2 = 0.2f;
  });
  add([](BinaryCase& c) {  // scales XNNPACK does not take: TFLite's built-in kernels
    c.scale1 = 0.5f;
    c.scale2 = 0.5f;
    c.out_scale = 0.0005f;
  });
  return all;
}

class BinaryQuantizedTest : public ::testing::TestWithParam<BinaryCase> {};

TEST_P(BinaryQuantizedTest, MulUint8MatchesDoubleMath) {
  check_quantized<uint8_t>(OpType::kMul, GetParam(), DataType::kUInt8, 0);
}
TEST_P(BinaryQuantizedTest, MulInt8MatchesDoubleMath) {
  check_quantized<int8_t>(OpType::kMul, GetParam(), DataType::kInt8, -128);
}
TEST_P(BinaryQuantizedTest, SubUint8MatchesDoubleMath) {
  BinaryCase c = GetParam();
  c.out_scale = std::max(c.scale1, c.scale2) * 1.5f;  // a subtraction's range
  if (c.shape1 == std::vector<int32_t>{2, 3, 5, 17}) c.out_scale = 0.6f;
  check_quantized<uint8_t>(OpType::kSub, c, DataType::kUInt8, 0);
}
TEST_P(BinaryQuantizedTest, SubInt8MatchesDoubleMath) {
  BinaryCase c = GetParam();
  c.out_scale = std::max(c.scale1, c.scale2) * 1.5f;
  check_quantized<int8_t>(OpType::kSub, c, DataType::kInt8, -128);
}

TEST_P(BinaryQuantizedTest, FloatMatchesDoubleMath) {
  const BinaryCase c = GetParam();
  for (const OpType type : {OpType::kMul, OpType::kSub}) {
    std::mt19937 rng(c.seed);
    const auto a = random_floats(element_count(c.shape1), -8, 8, rng);
    const auto b = random_floats(element_count(c.shape2), -8, 8, rng);
    std::vector<std::pair<int64_t, int64_t>> sources;
    const auto out_shape = broadcast_sources(c.shape1, c.shape2, &sources);
    OpGraph g;
    const int x = g.add_tensor(DataType::kFloat32, c.shape1);
    const int y = g.add_tensor(DataType::kFloat32, c.shape2);
    const int out = g.add_tensor(DataType::kFloat32, out_shape);
    g.set_op(type, {x, y}, {out}, options_of(type, c.activation));
    const auto actual = from_bytes<float>(g.run({{x, to_bytes(a)}, {y, to_bytes(b)}}, 2));
    ASSERT_EQ(actual.size(), sources.size());
    for (size_t k = 0; k < sources.size(); ++k) {
      const double expected =
          activate(apply(type, a[sources[k].first], b[sources[k].second]), c.activation);
      ASSERT_NEAR(actual[k], expected, 1e-5 * (1 + std::fabs(expected))) << "element " << k;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, BinaryQuantizedTest, ::testing::ValuesIn(cases()));

// Worked by hand: (12 - 10) * 0.5 * (101 - 100) * 0.25 = 0.25 -> 0.25 / 0.125 + 3 = 5;
// (12 - 10) * 0.5 - (101 - 100) * 0.25 = 0.75 -> 9; 0 * -25 = 0 -> 3; 0 - -25 = 25 -> 203.
TEST(MulSubTest, Uint8HandComputed) {
  for (const Requantization r : {Requantization::kXnnpack, Requantization::kFixedPoint}) {
    for (const OpType type : {OpType::kMul, OpType::kSub}) {
      OpGraph g;
      const int x = g.add_tensor(DataType::kUInt8, {2}, per_tensor(0.5f, 10));
      const int y = g.add_tensor(DataType::kUInt8, {2}, per_tensor(0.25f, 100));
      const int out = g.add_tensor(DataType::kUInt8, {2}, per_tensor(0.125f, 3));
      g.set_op(type, {x, y}, {out}, options_of(type, Activation::kNone));
      KernelOptions options;
      options.requantization = r;
      g.set_kernel_options(options);
      const std::vector<uint8_t> expected =
          type == OpType::kMul ? std::vector<uint8_t>{5, 3} : std::vector<uint8_t>{9, 203};
      EXPECT_EQ(g.run({{x, {12, 10}}, {y, {101, 0}}}), expected)
          << op_type_name(type) << " " << requantization_name(r);
    }
  }
}

TEST(MulSubErrorTest, Errors) {
  for (const OpType type : {OpType::kMul, OpType::kSub}) {
    const std::string name = "op 0 (" + std::string(op_type_name(type)) + "): ";
    OpGraph g;
    const int x = g.add_tensor(DataType::kUInt8, {1, 2, 3}, per_tensor(0.5f, 10));
    const int y = g.add_tensor(DataType::kUInt8, {1, 4, 3}, per_tensor(0.25f, 100));
    const int out = g.add_tensor(DataType::kUInt8, {1, 2, 3}, per_tensor(0.125f, 3));
    g.set_op(type, {x, y}, {out}, options_of(type, Activation::kNone));
    EXPECT_EQ(g.create_error(), name + "input shapes [1,2,3] and [1,4,3] do not broadcast");
    g.tensor(y).shape = {1, 1, 3};
    EXPECT_EQ(g.create_error(), "");
    g.tensor(y).shape = {2, 1, 1, 1, 1, 1, 3};
    EXPECT_NE(g.create_error().find("broadcasting supports rank up to 6"), std::string::npos);
    g.tensor(y).shape = {3};
    g.tensor(y).type = DataType::kInt8;
    EXPECT_EQ(g.create_error(), name + "input 1 must be uint8 like the input 0, got int8");
    g.tensor(y).type = DataType::kUInt8;
    g.tensor(out).quant = {};
    EXPECT_EQ(g.create_error(), name + "output has no quantization parameters");
    g.tensor(out).quant = per_tensor(0.1f, 0);
    g.tensor(out).shape = {1, 2, 1};
    EXPECT_NE(g.create_error().find("output shape [1,2,1] does not match"), std::string::npos);
    g.tensor(out).shape = {1, 2, 3};
    g.op().inputs = {x};
    EXPECT_EQ(g.create_error(), name + "expected 2 inputs, got 1");
    g.op().inputs = {x, y};
    g.op().options = std::monostate{};
    EXPECT_NE(g.create_error().find("missing"), std::string::npos);
    g.op().options = options_of(type, Activation::kNone);
    g.tensor(x).type = DataType::kInt32;
    EXPECT_EQ(g.create_error(), name + "input 0 must be uint8, int8 or float32, got int32");
  }
}

}  // namespace
}  // namespace qseg::test

// HARD_SWISH and LOGISTIC kernels (uint8, int8, float32) against double math on every 8-bit input
// value, over many scales and zero points, in both requantizations; and the prepare-time errors.
#include <gtest/gtest.h>

#include <cmath>

#include "kernel_test_util.h"

namespace qseg::test {
namespace {

double hard_swish(double x) { return x * std::clamp(x + 3.0, 0.0, 6.0) / 6.0; }
double logistic(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// Every input value of the type through the op; returns the output values.
template <typename T>
std::vector<T> every_value(OpType type, DataType data_type, Quantization in, Quantization out,
                           Requantization r) {
  OpGraph g;
  const int x = g.add_tensor(data_type, {1, 16, 16, 1}, std::move(in));
  const int y = g.add_tensor(data_type, {1, 16, 16, 1}, std::move(out));
  g.set_op(type, {x}, {y});
  KernelOptions options;
  options.requantization = r;
  g.set_kernel_options(options);
  std::vector<T> values(256);
  for (int i = 0; i < 256; ++i) values[i] = static_cast<T>(std::numeric_limits<T>::min() + i);
  return from_bytes<T>(g.run({{x, to_bytes(values)}}, 2));
}

template <typename T>
void check_every_value(OpType type, DataType data_type, float in_scale, int in_zp, float out_scale,
                       int out_zp, size_t allowed_mismatches) {
  const int qmin = std::numeric_limits<T>::min(), qmax = std::numeric_limits<T>::max();
  std::vector<int32_t> expected;
  for (int q = qmin; q <= qmax; ++q) {
    const double x = double{in_scale} * (q - in_zp);
    expected.push_back(quantize_double(type == OpType::kHardSwish ? hard_swish(x) : logistic(x),
                                       out_scale, out_zp, qmin, qmax));
  }
  for (const Requantization r : {Requantization::kXnnpack, Requantization::kFixedPoint}) {
    const auto actual = every_value<T>(type, data_type, per_tensor(in_scale, in_zp),
                                       per_tensor(out_scale, out_zp), r);
    expect_close_quantized(actual, expected, 1, allowed_mismatches,
                           std::string(op_type_name(type)) + " " +
                               std::string(requantization_name(r)) + " scales " +
                               std::to_string(in_scale) + "->" + std::to_string(out_scale));
  }
}

// TFLite's int16 fixed point: within one step; 16-bit multipliers and a truncating final multiply
// leave some values one step off, allowed on up to 32 of the 256.
constexpr size_t kHardSwishMismatches = 32;

TEST(HardSwishTest, QuantizedMatchesDoubleMathOnEveryValue) {
  struct Scales {
    float in, out;
    int in_zp, out_zp;  // uint8 encoding
  };
  for (const Scales s : {Scales{0.05f, 0.03f, 128, 20}, Scales{0.02f, 0.02f, 200, 10},
                         Scales{0.1f, 0.07f, 60, 40}, Scales{0.004f, 0.003f, 128, 128},
                         Scales{0.2f, 0.01f, 250, 0}, Scales{0.03f, 0.2f, 0, 255}}) {
    check_every_value<uint8_t>(OpType::kHardSwish, DataType::kUInt8, s.in, s.in_zp, s.out, s.out_zp,
                               kHardSwishMismatches);
    check_every_value<int8_t>(OpType::kHardSwish, DataType::kInt8, s.in, s.in_zp - 128, s.out,
                              s.out_zp - 128, kHardSwishMismatches);
  }
}

TEST(LogisticTest, QuantizedMatchesDoubleMathOnEveryValue) {
  for (const float scale : {0.001f, 0.01f, 0.05f, 0.1f, 0.3f}) {
    for (const int zp : {0, 128, 255}) {
      // float32 exp and its rounding: ties may go either way.
      check_every_value<uint8_t>(OpType::kLogistic, DataType::kUInt8, scale, zp, 1.0f / 256, 0,
                                 few(256));
      check_every_value<int8_t>(OpType::kLogistic, DataType::kInt8, scale, zp - 128, 1.0f / 256,
                                -128, few(256));
    }
  }
}

TEST(HardSwishLogisticTest, FloatMatchesDoubleMath) {
  std::mt19937 rng(5);
  const auto values = random_floats(4096, -10, 10, rng);
  for (const OpType type : {OpType::kHardSwish, OpType::kLogistic}) {
    for (const Requantization r : {Requantization::kXnnpack, Requantization::kFixedPoint}) {
      OpGraph g;
      const int x = g.add_tensor(DataType::kFloat32, {1, 64, 64, 1});
      const int y = g.add_tensor(DataType::kFloat32, {1, 64, 64, 1});
      g.set_op(type, {x}, {y});
      KernelOptions options;
      options.requantization = r;
      g.set_kernel_options(options);
      const auto actual = from_bytes<float>(g.run({{x, to_bytes(values)}}, 3));
      ASSERT_EQ(actual.size(), values.size());
      for (size_t i = 0; i < values.size(); ++i) {
        const double want =
            type == OpType::kHardSwish ? hard_swish(values[i]) : logistic(values[i]);
        ASSERT_NEAR(actual[i], want, 1e-6 * (1 + std::fabs(want)))
            << op_type_name(type) << " of " << values[i];
      }
    }
  }
}

TEST(HardSwishLogisticErrorTest, Errors) {
  for (const OpType type : {OpType::kHardSwish, OpType::kLogistic}) {
    const std::string name = "op 0 (" + std::string(op_type_name(type)) + "): ";
    OpGraph g;
    const int x = g.add_tensor(DataType::kUInt8, {1, 2, 3}, per_tensor(0.05f, 10));
    const int y = g.add_tensor(DataType::kUInt8, {1, 2, 3}, per_tensor(1.0f / 256, 0));
    g.set_op(type, {x}, {y});
    EXPECT_EQ(g.create_error(), "");
    g.tensor(y).shape = {1, 3, 2};
    EXPECT_EQ(g.create_error(),
              name + "output shape [1,3,2] does not match the computed shape [1,2,3]");
    g.tensor(y).shape = {1, 2, 3};
    g.tensor(y).type = DataType::kInt8;
    EXPECT_EQ(g.create_error(), name + "output must be uint8 like the input, got int8");
    g.tensor(y).type = DataType::kUInt8;
    g.tensor(x).quant = {};
    EXPECT_EQ(g.create_error(), name + "input has no quantization parameters");
    g.tensor(x).quant = per_tensor(0.05f, 10);
    g.op().inputs = {x, x};
    EXPECT_EQ(g.create_error(), name + "expected 1 inputs, got 2");
    g.op().inputs = {x};
    g.tensor(x).type = g.tensor(y).type = DataType::kInt32;
    EXPECT_EQ(g.create_error(), name + "input must be uint8, int8 or float32, got int32");
  }
  OpGraph g;
  const int x = g.add_tensor(DataType::kUInt8, {4}, per_tensor(0.5f, 10));
  const int y = g.add_tensor(DataType::kUInt8, {4}, per_tensor(0.01f, 0));
  g.set_op(OpType::kLogistic, {x}, {y});
  EXPECT_EQ(g.create_error(),
            "op 0 (LOGISTIC): output must have scale 1/256 and zero point 0, got scale 0.010000 "
            "and zero point 0");
  g.set_op(OpType::kHardSwish, {x}, {y});
  g.tensor(x).quant = per_tensor(2.0f, 10);
  EXPECT_EQ(g.create_error(),
            "op 0 (HARD_SWISH): input scale 2.000000 over output scale 0.010000 must be below 128");
}

}  // namespace
}  // namespace qseg::test

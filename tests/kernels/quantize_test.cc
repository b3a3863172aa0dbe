// QUANTIZE (float32 -> uint8/int8, and requantization between uint8 and int8) and DEQUANTIZE
// against double math, with saturation, extreme zero points, and the errors.
#include <gtest/gtest.h>

#include "kernel_test_util.h"

namespace qseg::test {
namespace {

const std::vector<int32_t> kShape = {2, 5, 7, 3};
constexpr size_t kCount = 2 * 5 * 7 * 3;

struct QuantParams {
  float scale;
  int zero_point;
};

template <typename Out>
void check_float_to(DataType type, QuantParams out_q, int qmin, int qmax) {
  std::mt19937 rng(static_cast<uint32_t>(out_q.zero_point + 1000));
  // Wide enough that some values saturate at both ends.
  const float span = out_q.scale * 300;
  const auto x = random_floats(kCount, -span, span, rng);
  std::vector<int32_t> expected;
  for (float v : x)
    expected.push_back(quantize_double(v, out_q.scale, out_q.zero_point, qmin, qmax));
  EXPECT_NE(std::count(expected.begin(), expected.end(), qmin), 0);
  EXPECT_NE(std::count(expected.begin(), expected.end(), qmax), 0);
  OpGraph g;
  const int in = g.add_tensor(DataType::kFloat32, kShape);
  const int out = g.add_tensor(type, kShape, per_tensor(out_q.scale, out_q.zero_point));
  g.set_op(OpType::kQuantize, {in}, {out});
  for (int threads : {1, 3}) {
    expect_close_quantized(from_bytes<Out>(g.run({{in, to_bytes(x)}}, threads)), expected, 1,
                           few(kCount), "quantize");
  }
}

TEST(QuantizeTest, FloatToUint8) {
  for (QuantParams q : {QuantParams{0.1f, 128}, {0.02f, 0}, {0.5f, 255}, {1.0f / 128, 3}}) {
    SCOPED_TRACE(q.zero_point);
    check_float_to<uint8_t>(DataType::kUInt8, q, 0, 255);
  }
}

TEST(QuantizeTest, FloatToInt8) {
  for (QuantParams q : {QuantParams{0.1f, 0}, {0.02f, -128}, {0.5f, 127}}) {
    SCOPED_TRACE(q.zero_point);
    check_float_to<int8_t>(DataType::kInt8, q, -128, 127);
  }
}

// Exact ties round half away from zero: 0.5 -> 1, -0.5 -> -1, 1.5 -> 2.
TEST(QuantizeTest, FloatTiesRoundAwayFromZero) {
  OpGraph g;
  const int in = g.add_tensor(DataType::kFloat32, {4});
  const int out = g.add_tensor(DataType::kInt8, {4}, per_tensor(0.5f, 0));
  g.set_op(OpType::kQuantize, {in}, {out});
  EXPECT_EQ(
      from_bytes<int8_t>(g.run({{in, to_bytes(std::vector<float>{0.25f, -0.25f, 0.75f, 1000})}})),
      (std::vector<int8_t>{1, -1, 2, 127}));
}

template <typename In, typename Out>
void check_requantize(DataType in_type, QuantParams in_q, int in_min, DataType out_type,
                      QuantParams out_q, int out_min) {
  std::mt19937 rng(static_cast<uint32_t>(in_q.zero_point + 7 * out_q.zero_point + 99));
  const auto x = random_ints<In>(kCount, in_min, in_min + 255, rng);
  std::vector<int32_t> expected;
  for (In v : x) {
    expected.push_back(quantize_double(double{in_q.scale} * (v - in_q.zero_point), out_q.scale,
                                       out_q.zero_point, out_min, out_min + 255));
  }
  OpGraph g;
  const int in = g.add_tensor(in_type, kShape, per_tensor(in_q.scale, in_q.zero_point));
  const int out = g.add_tensor(out_type, kShape, per_tensor(out_q.scale, out_q.zero_point));
  g.set_op(OpType::kQuantize, {in}, {out});
  const size_t allowance = double_rounding_allowance(kCount, double{in_q.scale} / out_q.scale);
  for (int threads : {1, 2}) {
    expect_close_quantized(from_bytes<Out>(g.run({{in, to_bytes(x)}}, threads)), expected, 1,
                           allowance, "requantize");
  }
}

TEST(QuantizeTest, Uint8ToUint8) {
  check_requantize<uint8_t, uint8_t>(DataType::kUInt8, {0.05f, 128}, 0, DataType::kUInt8,
                                     {0.07f, 100}, 0);
  check_requantize<uint8_t, uint8_t>(DataType::kUInt8, {0.05f, 0}, 0, DataType::kUInt8,
                                     {0.02f, 255}, 0);  // saturates
  check_requantize<uint8_t, uint8_t>(DataType::kUInt8, {0.3f, 255}, 0, DataType::kUInt8, {0.01f, 0},
                                     0);
  check_requantize<uint8_t, uint8_t>(DataType::kUInt8, {0.0078125f, 128}, 0, DataType::kUInt8,
                                     {0.0078125f, 128}, 0);
}

TEST(QuantizeTest, BetweenUint8AndInt8) {
  // Same scale, zero points 128 apart: a shift, exact.
  check_requantize<uint8_t, int8_t>(DataType::kUInt8, {0.1f, 128}, 0, DataType::kInt8, {0.1f, 0},
                                    -128);
  check_requantize<int8_t, uint8_t>(DataType::kInt8, {0.1f, -5}, -128, DataType::kUInt8,
                                    {0.1f, 123}, 0);
  check_requantize<int8_t, int8_t>(DataType::kInt8, {0.04f, -128}, -128, DataType::kInt8,
                                   {0.03f, 127}, -128);
  check_requantize<uint8_t, int8_t>(DataType::kUInt8, {0.02f, 17}, 0, DataType::kInt8, {0.5f, -100},
                                    -128);
}

template <typename In>
void check_dequantize(DataType type, QuantParams q, int qmin) {
  std::vector<In> x;
  for (int v = qmin; v <= qmin + 255; ++v) x.push_back(static_cast<In>(v));
  OpGraph g;
  const int in = g.add_tensor(type, {256}, per_tensor(q.scale, q.zero_point));
  const int out = g.add_tensor(DataType::kFloat32, {256});
  g.set_op(OpType::kDequantize, {in}, {out});
  const auto y = from_bytes<float>(g.run({{in, to_bytes(x)}}, 3));
  ASSERT_EQ(y.size(), 256u);
  for (int i = 0; i < 256; ++i) {
    // The double product is exact; rounded once to float it is what the kernel must produce.
    EXPECT_EQ(y[i], static_cast<float>(double{q.scale} * (x[i] - q.zero_point))) << i;
  }
}

TEST(DequantizeTest, AllValues) {
  check_dequantize<uint8_t>(DataType::kUInt8, {0.1f, 128}, 0);
  check_dequantize<uint8_t>(DataType::kUInt8, {0.0235f, 0}, 0);
  check_dequantize<uint8_t>(DataType::kUInt8, {3.7f, 255}, 0);
  check_dequantize<int8_t>(DataType::kInt8, {0.1f, -128}, -128);
  check_dequantize<int8_t>(DataType::kInt8, {0.013f, 127}, -128);
}

TEST(QuantizeErrorTest, Errors) {
  OpGraph g;
  const int in = g.add_tensor(DataType::kFloat32, {2, 3});
  const int out = g.add_tensor(DataType::kUInt8, {2, 3}, per_tensor(0.5f, 3));
  g.set_op(OpType::kQuantize, {in}, {out});
  EXPECT_EQ(g.create_error(), "");
  g.tensor(out).type = DataType::kFloat32;
  EXPECT_EQ(g.create_error(), "op 0 (QUANTIZE): output must be uint8 or int8, got float32");
  g.tensor(out).type = DataType::kUInt8;
  g.tensor(out).shape = {3, 2};
  EXPECT_EQ(g.create_error(),
            "op 0 (QUANTIZE): output shape [3,2] does not match the computed shape [2,3]");
  g.tensor(out).shape = {2, 3};
  g.tensor(out).quant.scale = {0.5f, 0.25f};
  g.tensor(out).quant.zero_point = {3, 3};
  EXPECT_EQ(g.create_error(), "op 0 (QUANTIZE): output must be quantized per tensor, got 2 scales");
  g.tensor(out).quant = per_tensor(0.5f, 3);
  g.tensor(in).type = DataType::kInt8;
  EXPECT_EQ(g.create_error(), "op 0 (QUANTIZE): input has no quantization parameters");
  g.tensor(in).type = DataType::kInt32;
  EXPECT_EQ(g.create_error(), "op 0 (QUANTIZE): input must be float32, uint8 or int8, got int32");

  OpGraph d;
  const int din = d.add_tensor(DataType::kFloat32, {4}, per_tensor(0.5f, 3));
  const int dout = d.add_tensor(DataType::kFloat32, {4});
  d.set_op(OpType::kDequantize, {din}, {dout});
  EXPECT_EQ(d.create_error(), "op 0 (DEQUANTIZE): input must be uint8 or int8, got float32");
  d.tensor(din).type = DataType::kUInt8;
  d.tensor(dout).type = DataType::kInt32;
  EXPECT_EQ(d.create_error(), "op 0 (DEQUANTIZE): output must be float32, got int32");
  d.tensor(dout).type = DataType::kFloat32;
  d.tensor(din).quant.zero_point = {-1};
  EXPECT_NE(d.create_error().find("input zero point -1 is outside the uint8 range [0, 255]"),
            std::string::npos);
}

}  // namespace
}  // namespace qseg::test

// CONCATENATION kernels: copies, TFLite's rescaling of 8-bit inputs with other scales or zero
// points, negative axes, every axis position, and the errors.
#include <gtest/gtest.h>

#include "kernel_test_util.h"

namespace qseg::test {
namespace {

struct Part {
  std::vector<int32_t> shape;
  float scale;
  int zero_point;
};

// Plain concatenation of real values along `axis` (already non-negative), in double.
std::vector<double> reference_concat(const std::vector<std::vector<double>>& parts,
                                     const std::vector<std::vector<int32_t>>& shapes, int axis) {
  int64_t outer = 1;
  for (int d = 0; d < axis; ++d) outer *= shapes[0][d];
  std::vector<double> out;
  for (int64_t o = 0; o < outer; ++o) {
    for (size_t p = 0; p < parts.size(); ++p) {
      int64_t row = 1;
      for (size_t d = axis; d < shapes[p].size(); ++d) row *= shapes[p][d];
      out.insert(out.end(), parts[p].begin() + o * row, parts[p].begin() + (o + 1) * row);
    }
  }
  return out;
}

template <typename T>
void check_quantized_concat(DataType type, int qmin, const std::vector<Part>& parts, int axis,
                            Part out_q, uint32_t seed) {
  std::mt19937 rng(seed);
  const int rank = static_cast<int>(out_q.shape.size());
  const int positive_axis = axis < 0 ? axis + rank : axis;
  OpGraph g;
  std::vector<int32_t> inputs;
  std::map<int, std::vector<uint8_t>> data;
  std::vector<std::vector<double>> reals;
  std::vector<std::vector<int32_t>> shapes;
  for (const Part& p : parts) {
    int64_t n = 1;
    for (int32_t d : p.shape) n *= d;
    const auto q = random_ints<T>(n, qmin, qmin + 255, rng);
    const int t = g.add_tensor(type, p.shape, per_tensor(p.scale, p.zero_point));
    inputs.push_back(t);
    data[t] = to_bytes(q);
    std::vector<double> real;
    for (T v : q) real.push_back(double{p.scale} * (v - p.zero_point));
    reals.push_back(real);
    shapes.push_back(p.shape);
  }
  const int out = g.add_tensor(type, out_q.shape, per_tensor(out_q.scale, out_q.zero_point));
  ConcatenationOptions options;
  options.axis = axis;
  g.set_op(OpType::kConcatenation, inputs, {out}, options);
  std::vector<int32_t> expected;
  for (double v : reference_concat(reals, shapes, positive_axis)) {
    expected.push_back(quantize_double(v, out_q.scale, out_q.zero_point, qmin, qmin + 255));
  }
  for (int threads : {1, 3}) {
    expect_close_quantized(from_bytes<T>(g.run(data, threads)), expected, 1, few(expected.size()),
                           "concatenation");
  }
}

TEST(ConcatenationTest, Uint8ChannelsWithMixedRanges) {
  // Input 0 has the output's parameters (copied exactly); the others are rescaled, one with a
  // much wider range (values saturate), one with an extreme zero point.
  check_quantized_concat<uint8_t>(DataType::kUInt8, 0,
                                  {{{1, 5, 6, 3}, 0.1f, 128},
                                   {{1, 5, 6, 7}, 0.3f, 100},
                                   {{1, 5, 6, 1}, 0.02f, 255},
                                   {{1, 5, 6, 17}, 0.05f, 0}},
                                  -1, {{1, 5, 6, 28}, 0.1f, 128}, 1);
}

TEST(ConcatenationTest, Uint8EveryAxis) {
  check_quantized_concat<uint8_t>(DataType::kUInt8, 0,
                                  {{{2, 3, 4}, 0.1f, 10}, {{1, 3, 4}, 0.2f, 20}}, 0,
                                  {{3, 3, 4}, 0.15f, 30}, 2);
  check_quantized_concat<uint8_t>(DataType::kUInt8, 0,
                                  {{{2, 3, 4}, 0.1f, 10}, {{2, 5, 4}, 0.1f, 10}}, -2,
                                  {{2, 8, 4}, 0.1f, 10}, 3);
  check_quantized_concat<uint8_t>(DataType::kUInt8, 0,
                                  {{{2, 3, 1, 4}, 0.1f, 0}, {{2, 3, 2, 4}, 0.07f, 200}}, -2,
                                  {{2, 3, 3, 4}, 0.12f, 90}, 4);
  check_quantized_concat<uint8_t>(DataType::kUInt8, 0, {{{1, 1, 1, 1}, 0.5f, 1}}, 3,
                                  {{1, 1, 1, 1}, 0.25f, 2}, 5);
}

TEST(ConcatenationTest, Int8MixedRanges) {
  check_quantized_concat<int8_t>(
      DataType::kInt8, -128,
      {{{1, 4, 4, 5}, 0.1f, -128}, {{1, 4, 4, 3}, 0.05f, 127}, {{1, 4, 4, 2}, 0.2f, 0}}, 3,
      {{1, 4, 4, 10}, 0.1f, -128}, 6);
}

// TFLite's rescale worked by hand: scale 0.5 / 0.25 = 2, q = 3 with zero point 1 -> 2 * (3 - 1)
// = 4 -> + 10 = 14; q = 200 -> 398 + 10 saturates to 255.
TEST(ConcatenationTest, RescaleHandComputed) {
  OpGraph g;
  const int a = g.add_tensor(DataType::kUInt8, {1, 2}, per_tensor(0.5f, 1));
  const int b = g.add_tensor(DataType::kUInt8, {1, 1}, per_tensor(0.25f, 10));
  const int out = g.add_tensor(DataType::kUInt8, {1, 3}, per_tensor(0.25f, 10));
  ConcatenationOptions o;
  o.axis = 1;
  g.set_op(OpType::kConcatenation, {a, b}, {out}, o);
  EXPECT_EQ(g.run({{a, {3, 200}}, {b, {77}}}), (std::vector<uint8_t>{14, 255, 77}));
}

TEST(ConcatenationTest, FloatAndInt32Copy) {
  OpGraph g;
  const int a = g.add_tensor(DataType::kFloat32, {2, 2});
  const int b = g.add_tensor(DataType::kFloat32, {2, 1});
  const int out = g.add_tensor(DataType::kFloat32, {2, 3});
  ConcatenationOptions o;
  o.axis = -1;
  g.set_op(OpType::kConcatenation, {a, b}, {out}, o);
  EXPECT_EQ(from_bytes<float>(g.run({{a, to_bytes(std::vector<float>{1, 2, 3, 4})},
                                     {b, to_bytes(std::vector<float>{-5, -6})}},
                                    2)),
            (std::vector<float>{1, 2, -5, 3, 4, -6}));
  OpGraph h;
  const int c = h.add_constant(DataType::kInt32, {1, 2}, std::vector<int32_t>{7, 8});
  const int d = h.add_tensor(DataType::kInt32, {2, 2});
  const int hout = h.add_tensor(DataType::kInt32, {3, 2});
  h.set_op(OpType::kConcatenation, {c, d}, {hout}, ConcatenationOptions{});
  EXPECT_EQ(from_bytes<int32_t>(h.run({{d, to_bytes(std::vector<int32_t>{1, 2, 3, 4})}})),
            (std::vector<int32_t>{7, 8, 1, 2, 3, 4}));
}

TEST(ConcatenationErrorTest, Errors) {
  OpGraph g;
  const int a = g.add_tensor(DataType::kUInt8, {1, 2, 3}, per_tensor(0.5f, 1));
  const int b = g.add_tensor(DataType::kUInt8, {1, 2, 4}, per_tensor(0.5f, 1));
  const int out = g.add_tensor(DataType::kUInt8, {1, 2, 7}, per_tensor(0.5f, 1));
  ConcatenationOptions o;
  o.axis = 2;
  g.set_op(OpType::kConcatenation, {a, b}, {out}, o);
  EXPECT_EQ(g.create_error(), "");
  o.activation = Activation::kRelu;
  g.op().options = o;
  EXPECT_EQ(
      g.create_error(),
      "op 0 (CONCATENATION): fused activations are not supported, the activation must be NONE");
  o.activation = Activation::kNone;
  o.axis = 3;
  g.op().options = o;
  EXPECT_EQ(g.create_error(), "op 0 (CONCATENATION): axis 3 is out of range for rank 3");
  o.axis = -4;
  g.op().options = o;
  EXPECT_EQ(g.create_error(), "op 0 (CONCATENATION): axis -4 is out of range for rank 3");
  o.axis = 1;  // the inputs differ along dim 2
  g.op().options = o;
  EXPECT_NE(g.create_error().find("op 0 (CONCATENATION): input 1 shape [1,2,4] differs"),
            std::string::npos);
  o.axis = -1;
  g.op().options = o;
  g.tensor(out).shape = {1, 2, 8};
  EXPECT_EQ(g.create_error(),
            "op 0 (CONCATENATION): output shape [1,2,8] does not match the computed shape [1,2,7]");
  g.tensor(out).shape = {1, 2, 7};
  g.tensor(b).type = DataType::kInt8;
  EXPECT_EQ(g.create_error(),
            "op 0 (CONCATENATION): input 1 must be uint8 like the output, got int8");
  g.tensor(b).type = DataType::kUInt8;
  g.tensor(b).quant = {};
  EXPECT_EQ(g.create_error(), "op 0 (CONCATENATION): input 1 has no quantization parameters");
  g.op().inputs = {};
  EXPECT_EQ(g.create_error(), "op 0 (CONCATENATION): expected at least 1 input, got 0");
}

}  // namespace
}  // namespace qseg::test

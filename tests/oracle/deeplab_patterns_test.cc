// Small DeepLab-like graphs built from the data-movement ops as public exports use them, run end
// to end in qseg and in the real TFLite, bit for bit, on many random inputs (the batch dimension
// holds them, so one oracle start covers all):
// - image pooling as the EdgeTPU DeepLab exports write it: AVERAGE_POOL_2D over the whole map ->
//   1x1 CONV_2D -> TILE back to the map (instead of RESIZE_BILINEAR) -> CONCATENATION with a
//   1x1 CONV_2D branch;
// - an atrous convolution as older exports write it: SPACE_TO_BATCH_ND -> CONV_2D (VALID) ->
//   BATCH_TO_SPACE_ND, which in qseg also equals the dilated CONV_2D it stands for.
// uint8 and per-channel int8 are bit-exact; the float graphs are held to float rounding (1e-5 of
// the outputs' range: their convolutions sum in another order than XNNPACK), the data movement in
// them being bit-exact in data_movement_ops_test.cc.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>

#include "oracle/oracle_graph.h"

namespace qseg {
namespace {

using test::CaseGraph;

constexpr float kFloatTolerance = 1e-5f;  // used by float32 outputs only

struct Scheme {
  const char* name;
  DataType type;
};
const Scheme kSchemes[] = {{"uint8", DataType::kUInt8},
                           {"int8 per-channel", DataType::kInt8},
                           {"float", DataType::kFloat32}};

Quantization activation_quant(DataType type, float scale, int64_t uint8_zero_point) {
  if (type == DataType::kFloat32) return {};
  return test::quantization(scale,
                            type == DataType::kUInt8 ? uint8_zero_point : uint8_zero_point - 128);
}

// Adds CONV_2D weights [out, k, k, in] and bias [out] for an input of scale `input_scale`:
// uint8 weights with one scale and zero point, int8 weights per output channel (zero point 0),
// or float. Returns {weights, bias}.
std::pair<int, int> conv_weights(CaseGraph& g, DataType type, int out, int k, int in,
                                 float input_scale, std::mt19937& rng) {
  const int32_t n = out * k * k * in;
  if (type == DataType::kFloat32) {
    std::uniform_real_distribution<float> w(-0.5f, 0.5f);
    std::vector<float> weights(static_cast<size_t>(n)), bias(static_cast<size_t>(out));
    for (float& v : weights) v = w(rng);
    for (float& v : bias) v = w(rng);
    return {g.typed_constant(DataType::kFloat32, {out, k, k, in}, weights),
            g.typed_constant(DataType::kFloat32, {out}, bias)};
  }
  std::vector<uint8_t> weights(static_cast<size_t>(n));
  for (uint8_t& v : weights) v = static_cast<uint8_t>(rng());
  std::vector<int32_t> bias(static_cast<size_t>(out));
  for (int32_t& v : bias) v = static_cast<int32_t>(rng() % 4001) - 2000;
  Quantization wq, bq;
  if (type == DataType::kUInt8) {
    wq = test::quantization(0.01f, 120);
    bq = test::quantization(input_scale * 0.01f, 0);
  } else {
    for (int c = 0; c < out; ++c) {
      wq.scale.push_back(0.004f + 0.002f * static_cast<float>(c));
      wq.zero_point.push_back(0);
      bq.scale.push_back(input_scale * wq.scale.back());
      bq.zero_point.push_back(0);
    }
    for (uint8_t& v : weights) v = v == 0x80 ? 0x81 : v;  // symmetric: no -128
  }
  return {g.constant(type, {out, k, k, in}, weights, wq),
          g.typed_constant(DataType::kInt32, {out}, bias, bq)};
}

std::vector<uint8_t> random_batch(DataType type, size_t elements, std::mt19937& rng) {
  std::vector<uint8_t> bytes(elements * data_type_size(type));
  if (type != DataType::kFloat32) {
    for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng());
    return bytes;
  }
  std::uniform_real_distribution<float> dist(-3.0f, 3.0f);
  for (size_t i = 0; i < elements; ++i) {
    const float v = dist(rng);
    std::memcpy(bytes.data() + 4 * i, &v, 4);
  }
  return bytes;
}

TEST(RealTfliteDeepLabPatterns, ImagePoolingWithTileMatches) {
  constexpr int kBatch = 12, kSide = 9, kChannels = 8;
  std::mt19937 rng(76);
  for (const Scheme& s : kSchemes) {
    const float in_scale = 0.05f, out_scale = 0.04f;
    const Quantization in_q = activation_quant(s.type, in_scale, 128);
    const Quantization out_q = activation_quant(s.type, out_scale, 0);  // after RELU
    CaseGraph g(s.type, {kBatch, kSide, kSide, kChannels}, in_q);
    const int pooled = g.tensor(s.type, {kBatch, 1, 1, kChannels}, in_q);
    Pool2dOptions pool;
    pool.padding = Padding::kValid;
    pool.filter_h = pool.filter_w = pool.stride_h = pool.stride_w = kSide;
    g.op(OpType::kAveragePool2d, {g.input()}, {pooled}, pool);
    Conv2dOptions relu;
    relu.activation = Activation::kRelu;
    const auto [w1, b1] = conv_weights(g, s.type, 4, 1, kChannels, in_scale, rng);
    const int features = g.tensor(s.type, {kBatch, 1, 1, 4}, out_q);
    g.op(OpType::kConv2d, {pooled, w1, b1}, {features}, relu);
    const int multiples = g.int_constant({1, kSide, kSide, 1});
    const int tiled = g.tensor(s.type, {kBatch, kSide, kSide, 4}, out_q);
    g.op(OpType::kTile, {features, multiples}, {tiled});
    const auto [w2, b2] = conv_weights(g, s.type, 4, 1, kChannels, in_scale, rng);
    const int branch = g.tensor(s.type, {kBatch, kSide, kSide, 4}, out_q);
    g.op(OpType::kConv2d, {g.input(), w2, b2}, {branch}, relu);
    const int concat = g.tensor(s.type, {kBatch, kSide, kSide, 8}, out_q);
    g.op(OpType::kConcatenation, {tiled, branch}, {concat}, ConcatenationOptions{3});
    g.output(concat);
    g.output(tiled);
    g.expect_matches_real_tflite(
        random_batch(s.type, size_t{kBatch} * kSide * kSide * kChannels, rng),
        std::string("image pooling ") + s.name, kFloatTolerance);
  }
}

TEST(RealTfliteDeepLabPatterns, AtrousConvolutionAsSpaceToBatchMatches) {
  constexpr int kBatch = 8, kSide = 12, kIn = 4, kOut = 6, kRate = 2;
  std::mt19937 rng(38);
  for (const Scheme& s : kSchemes) {
    const float in_scale = 0.05f;
    const Quantization in_q = activation_quant(s.type, in_scale, 100);
    const Quantization out_q = activation_quant(s.type, 0.08f, 110);
    CaseGraph g(s.type, {kBatch, kSide, kSide, kIn}, in_q);
    const int block = g.int_constant({kRate, kRate});
    const int paddings = g.int_constant({kRate, kRate, kRate, kRate}, {2, 2});
    const int phases = kRate * kRate;
    const int padded_side = (kSide + 2 * kRate) / kRate;
    const int batched = g.tensor(s.type, {kBatch * phases, padded_side, padded_side, kIn}, in_q);
    g.op(OpType::kSpaceToBatchNd, {g.input(), block, paddings}, {batched});
    const auto [w, b] = conv_weights(g, s.type, kOut, 3, kIn, in_scale, rng);
    Conv2dOptions valid;
    valid.padding = Padding::kValid;
    const int convolved =
        g.tensor(s.type, {kBatch * phases, padded_side - 2, padded_side - 2, kOut}, out_q);
    g.op(OpType::kConv2d, {batched, w, b}, {convolved}, valid);
    const int crops = g.int_constant({0, 0, 0, 0}, {2, 2});
    const int out = g.tensor(s.type, {kBatch, kSide, kSide, kOut}, out_q);
    g.op(OpType::kBatchToSpaceNd, {convolved, block, crops}, {out});
    g.output(out);
    const std::vector<uint8_t> input =
        random_batch(s.type, size_t{kBatch} * kSide * kSide * kIn, rng);
    g.expect_matches_real_tflite(input, std::string("atrous ") + s.name, kFloatTolerance);

    // The same weights as one dilated CONV_2D (SAME): what the three ops stand for.
    Graph dilated = g.graph();
    dilated.ops = {dilated.ops[1]};
    dilated.ops[0].inputs[0] = dilated.inputs[0];
    dilated.ops[0].outputs = {out};
    Conv2dOptions same;
    same.dilation_h = same.dilation_w = kRate;
    dilated.ops[0].options = same;
    dilated.outputs = {out};
    auto wrapped = Interpreter::create(g.graph());
    auto direct = Interpreter::create(dilated);
    ASSERT_TRUE(wrapped.is_ok()) << wrapped.status().message();
    ASSERT_TRUE(direct.is_ok()) << direct.status().message();
    for (auto* interpreter : {wrapped.value().get(), direct.value().get()}) {
      std::memcpy(interpreter->input_bytes().data(), input.data(), input.size());
      interpreter->invoke();
    }
    const auto a = wrapped.value()->output_bytes();
    const auto d = direct.value()->output_bytes();
    ASSERT_EQ(a.size(), d.size());
    EXPECT_TRUE(std::equal(a.begin(), a.end(), d.begin()))
        << s.name << ": SPACE_TO_BATCH_ND -> CONV_2D -> BATCH_TO_SPACE_ND differs from the "
        << "dilated CONV_2D";
  }
}

}  // namespace
}  // namespace qseg

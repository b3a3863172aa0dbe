// A MobileNetV3 block written with qseg's writer and run in qseg and in the real TFLite
// (tests/oracle_util.h), uint8 and int8, bit for bit over many random inputs: 1x1 expansion ->
// HARD_SWISH -> 3x3 depthwise -> squeeze-excite (MEAN over H and W with keep_dims -> 1x1 conv
// RELU -> 1x1 conv -> hard sigmoid, as TFLite exports write it (ADD 3 with RELU6, MUL by 1/6) or
// as LOGISTIC -> MUL of the per-channel gate over H and W) -> 1x1 projection -> residual ADD.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "oracle_util.h"
#include "qseg/interpreter.h"
#include "qseg/kernel_isa.h"
#include "qseg/tflite.h"
#include "test_util.h"

namespace qseg {
namespace {

constexpr int kBatch = 6, kSide = 9, kChannels = 8, kExpanded = 24, kSqueezed = 8;

class BlockBuilder {
 public:
  BlockBuilder(DataType type, uint32_t seed) : type_(type), rng_(seed) {}

  int32_t qmin() const { return type_ == DataType::kInt8 ? -128 : 0; }
  // A zero point at `fraction` of the 8-bit range.
  int32_t zero_point(double fraction) const {
    return qmin() + static_cast<int32_t>(std::lround(255 * fraction));
  }

  int activation(std::vector<int32_t> shape, float scale, int32_t zero_point) {
    Tensor t;
    t.name = "t" + std::to_string(graph_.tensors.size());
    t.type = type_;
    t.shape = std::move(shape);
    t.quant.scale = {scale};
    t.quant.zero_point = {zero_point};
    return add(std::move(t));
  }

  // Random weights [out, kh, kw, in] (or [1, kh, kw, channels] for depthwise) of about
  // 1 / sqrt(fan_in) in size, and their bias: uint8 per tensor, int8 per output channel.
  std::pair<int, int> weights(std::vector<int32_t> shape, int fan_in, float input_scale,
                              bool depthwise) {
    const int channels = depthwise ? shape[3] : shape[0];
    const float range = 1.5f / std::sqrt(static_cast<float>(fan_in));
    Tensor w;
    w.name = "w" + std::to_string(graph_.tensors.size());
    w.type = type_;
    w.shape = shape;
    w.is_constant = true;
    int64_t n = 1;
    for (int32_t d : shape) n *= d;
    w.data.resize(n);
    std::vector<float> scales;
    if (type_ == DataType::kUInt8) {
      scales = {range / 127.5f};
      w.quant.scale = scales;
      w.quant.zero_point = {128};
      for (uint8_t& b : w.data) b = static_cast<uint8_t>(rng_());
    } else {
      for (int c = 0; c < channels; ++c) {
        scales.push_back(range * std::uniform_real_distribution<float>(0.5f, 1.0f)(rng_) / 127);
      }
      w.quant.scale = scales;
      w.quant.zero_point.assign(channels, 0);
      w.quant.quantized_dimension = depthwise ? 3 : 0;
      for (uint8_t& b : w.data) b = static_cast<uint8_t>(static_cast<int8_t>(rng_() % 255 - 127));
    }
    const int weights_index = add(std::move(w));
    Tensor bias;
    bias.name = "b" + std::to_string(graph_.tensors.size());
    bias.type = DataType::kInt32;
    bias.shape = {channels};
    bias.is_constant = true;
    std::vector<int32_t> values(channels);
    for (int c = 0; c < channels; ++c) {
      const float s = scales.size() == 1 ? scales[0] : scales[c];
      bias.quant.scale.push_back(input_scale * s);
      bias.quant.zero_point.push_back(0);
      values[c] = static_cast<int32_t>(std::uniform_real_distribution<float>(-0.5f, 0.5f)(rng_) /
                                       (input_scale * s));
    }
    if (scales.size() == 1) {
      bias.quant.scale.resize(1);
      bias.quant.zero_point.resize(1);
    }
    bias.data.resize(values.size() * 4);
    std::memcpy(bias.data.data(), values.data(), bias.data.size());
    return {weights_index, add(std::move(bias))};
  }

  // A constant holding one real value.
  int scalar(float value, float scale, int32_t zero_point) {
    Tensor t;
    t.name = "k" + std::to_string(graph_.tensors.size());
    t.type = type_;
    t.shape = {1};
    t.quant.scale = {scale};
    t.quant.zero_point = {zero_point};
    t.is_constant = true;
    t.data = {static_cast<uint8_t>(static_cast<int32_t>(std::lround(value / scale)) + zero_point)};
    return add(std::move(t));
  }
  int int32_constant(std::vector<int32_t> values) {
    Tensor t;
    t.name = "axes";
    t.type = DataType::kInt32;
    t.shape = {static_cast<int32_t>(values.size())};
    t.is_constant = true;
    t.data.resize(values.size() * 4);
    std::memcpy(t.data.data(), values.data(), t.data.size());
    return add(std::move(t));
  }

  int conv(int in, float in_scale, int channels_in, int channels_out, float out_scale,
           int32_t out_zp, Activation activation) {
    const auto [w, b] = weights({channels_out, 1, 1, channels_in}, channels_in, in_scale, false);
    const int out = activation_like(in, channels_out, out_scale, out_zp);
    Conv2dOptions o;
    o.activation = activation;
    op(OpType::kConv2d, {in, w, b}, out, o);
    return out;
  }
  int activation_like(int in, int channels, float scale, int32_t zero_point) {
    std::vector<int32_t> shape = graph_.tensors[in].shape;
    shape[3] = channels;
    return activation(shape, scale, zero_point);
  }
  void op(OpType type, std::vector<int32_t> inputs, int output, OpOptions options = {}) {
    graph_.ops.push_back(Op{type, 1, std::move(inputs), {output}, std::move(options)});
  }

  Graph& graph() { return graph_; }
  std::mt19937& rng() { return rng_; }

 private:
  int add(Tensor t) {
    graph_.tensors.push_back(std::move(t));
    return static_cast<int>(graph_.tensors.size()) - 1;
  }

  DataType type_;
  std::mt19937 rng_;
  Graph graph_;
};

Graph mobilenet_v3_block(DataType type, bool logistic_gate, uint32_t seed) {
  BlockBuilder b(type, seed);
  const float in_scale = 0.05f;
  const int in = b.activation({kBatch, kSide, kSide, kChannels}, in_scale, b.zero_point(0.5));
  const int expanded =
      b.conv(in, in_scale, kChannels, kExpanded, 0.06f, b.zero_point(0.45), Activation::kNone);
  const int swished = b.activation_like(expanded, kExpanded, 0.04f, b.zero_point(0.1));
  b.op(OpType::kHardSwish, {expanded}, swished);
  const auto [dw_w, dw_b] = b.weights({1, 3, 3, kExpanded}, 9, 0.04f, true);
  const int filtered = b.activation_like(swished, kExpanded, 0.05f, b.zero_point(0.4));
  DepthwiseConv2dOptions dw;
  b.op(OpType::kDepthwiseConv2d, {swished, dw_w, dw_b}, filtered, dw);
  // Squeeze-excite.
  const int axes = b.int32_constant({1, 2});
  const int pooled = b.activation({kBatch, 1, 1, kExpanded}, 0.02f, b.zero_point(0.4));
  b.op(OpType::kMean, {filtered, axes}, pooled, MeanOptions{true});
  const int squeezed =
      b.conv(pooled, 0.02f, kExpanded, kSqueezed, 0.02f, b.zero_point(0), Activation::kRelu);
  int gate = 0;
  if (logistic_gate) {
    const int logits =
        b.conv(squeezed, 0.02f, kSqueezed, kExpanded, 0.03f, b.zero_point(0.5), Activation::kNone);
    gate = b.activation({kBatch, 1, 1, kExpanded}, 1.0f / 256, b.qmin());
    b.op(OpType::kLogistic, {logits}, gate);
  } else {
    const int logits =
        b.conv(squeezed, 0.02f, kSqueezed, kExpanded, 0.03f, b.zero_point(0.5), Activation::kNone);
    // hard sigmoid = relu6(x + 3) * (1/6)
    const int three = b.scalar(3.0f, 3.0f / 127, b.zero_point(0));
    const int shifted = b.activation({kBatch, 1, 1, kExpanded}, 6.0f / 255, b.zero_point(0));
    b.op(OpType::kAdd, {logits, three}, shifted, AddOptions{Activation::kRelu6});
    const int sixth = b.scalar(1.0f / 6, 1.0f / (6 * 127), b.zero_point(0));
    gate = b.activation({kBatch, 1, 1, kExpanded}, 1.0f / 255, b.zero_point(0));
    b.op(OpType::kMul, {shifted, sixth}, gate, MulOptions{});
  }
  const int excited = b.activation_like(filtered, kExpanded, 0.04f, b.zero_point(0.4));
  b.op(OpType::kMul, {filtered, gate}, excited, MulOptions{});
  const int projected =
      b.conv(excited, 0.04f, kExpanded, kChannels, 0.05f, b.zero_point(0.5), Activation::kNone);
  const int out = b.activation_like(in, kChannels, 0.07f, b.zero_point(0.5));
  b.op(OpType::kAdd, {in, projected}, out, AddOptions{});
  Graph& g = b.graph();
  g.inputs = {in};
  g.outputs = {out};
  return g;
}

TEST(RealTfliteMobileNetV3Block, MatchesBitForBitOnRandomInputs) {
  std::vector<KernelIsa> isas = available_optimized_kernel_isas();
  isas.push_back(KernelIsa::kReference);
  uint32_t seed = 100;
  for (const DataType type : {DataType::kUInt8, DataType::kInt8}) {
    for (const bool logistic_gate : {false, true}) {
      const Graph g = mobilenet_v3_block(type, logistic_gate, seed++);
      const std::string what = std::string(data_type_name(type)) +
                               (logistic_gate ? " logistic gate" : " hard sigmoid gate");
      const auto path = test::temp_dir("oracle_mnv3_block") / "block.tflite";
      const Status written = write_tflite_file(g, path);
      ASSERT_TRUE(written.is_ok()) << written.message();
      std::mt19937 rng(seed);
      for (int run = 0; run < 3; ++run) {  // 3 runs of kBatch random images each
        std::vector<uint8_t> input(size_t{kBatch} * kSide * kSide * kChannels);
        for (uint8_t& v : input) v = static_cast<uint8_t>(rng());
        auto tflite = test::run_real_tflite(path, input);
        ASSERT_TRUE(tflite.is_ok()) << tflite.status().message();
        int distinct = 0;
        for (size_t i = 1; i < tflite.value().size(); ++i)
          distinct += tflite.value()[i] != tflite.value()[0];
        EXPECT_GT(distinct, 0) << what << ": the block's output is constant";
        for (const KernelIsa isa : isas) {
          InterpreterOptions options;
          options.kernel_isa = isa;
          auto interpreter = Interpreter::create(g, options);
          ASSERT_TRUE(interpreter.is_ok()) << interpreter.status().message();
          std::memcpy(interpreter.value()->input_bytes().data(), input.data(), input.size());
          interpreter.value()->invoke();
          const auto got = interpreter.value()->output_bytes();
          ASSERT_EQ(got.size(), tflite.value().size());
          int differ = 0;
          for (size_t i = 0; i < got.size(); ++i) differ += got[i] != tflite.value()[i];
          EXPECT_EQ(differ, 0) << what << " run " << run << " on " << kernel_isa_name(isa);
        }
      }
    }
  }
}

}  // namespace
}  // namespace qseg

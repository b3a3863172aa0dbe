// Files written by qseg's .tflite writer, run in the real TensorFlow Lite (tests/oracle_util.h):
// the round-tripped published models give exactly the original files' outputs, and qseg's runtime
// agrees with real TFLite on the written file. These tests fail, never skip, without the oracle.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "oracle_util.h"
#include "qseg/interpreter.h"
#include "qseg/tflite.h"
#include "test_util.h"

namespace qseg {
namespace {

constexpr int kSide = 513;

// Reads model_name from the shared models, writes it with qseg's writer into a fresh folder and
// returns the written file.
std::filesystem::path round_trip(const std::string& model_name, const std::string& folder) {
  auto graph = read_tflite_file(test::shared_path("models/" + model_name));
  EXPECT_TRUE(graph.is_ok()) << graph.status().message();
  const auto path = test::temp_dir(folder) / ("written_" + model_name);
  const Status status = write_tflite_file(graph.value(), path);
  EXPECT_TRUE(status.is_ok()) << status.message();
  return path;
}

std::vector<uint8_t> real_tflite_or_fail(const std::filesystem::path& model,
                                         const std::vector<uint8_t>& input) {
  auto output = test::run_real_tflite(model, input);
  EXPECT_TRUE(output.is_ok()) << output.status().message();
  return output.is_ok() ? std::move(output).value() : std::vector<uint8_t>{};
}

TEST(RealTflite, RoundTrippedDm05GivesTheOriginalOutput) {
  const std::string name = "deeplabv3_mnv2_dm05_pascal_quant.tflite";
  const auto written = round_trip(name, "oracle_dm05");
  const auto input =
      test::read_maybe_gzipped(test::shared_path("golden/bird_segmentation_513.rgb.gz"));
  ASSERT_EQ(input.size(), size_t{kSide} * kSide * 3);

  const auto original_out = real_tflite_or_fail(test::shared_path("models/" + name), input);
  const auto written_out = real_tflite_or_fail(written, input);
  ASSERT_EQ(original_out.size(), size_t{kSide} * kSide * sizeof(int64_t));  // int64 ArgMax
  EXPECT_TRUE(written_out == original_out) << "the written file's output differs in real TFLite";
  std::vector<int64_t> tflite_labels(size_t{kSide} * kSide);
  std::memcpy(tflite_labels.data(), written_out.data(), written_out.size());

  // The harness itself: real TFLite on the original reproduces the shared golden ArgMax.
  const auto golden = test::read_file(test::shared_path("golden/dm05_bird_argmax.u8"));
  ASSERT_EQ(golden.size(), tflite_labels.size());
  int64_t golden_same = 0;
  for (size_t i = 0; i < golden.size(); ++i) golden_same += tflite_labels[i] == golden[i];
  EXPECT_EQ(golden_same, static_cast<int64_t>(golden.size()));

  // qseg's runtime (its default arithmetic, TFLite's XNNPACK path) on the written file.
  auto graph = read_tflite_file(written);
  ASSERT_TRUE(graph.is_ok()) << graph.status().message();
  auto interpreter = Interpreter::create(std::move(graph).value());
  ASSERT_TRUE(interpreter.is_ok()) << interpreter.status().message();
  auto dst = interpreter.value()->input_bytes();
  ASSERT_EQ(dst.size(), input.size());
  std::copy(input.begin(), input.end(), dst.begin());
  interpreter.value()->invoke();
  const auto* qseg_labels =
      reinterpret_cast<const int64_t*>(interpreter.value()->output_bytes().data());
  int64_t same = 0;
  for (size_t i = 0; i < tflite_labels.size(); ++i) same += qseg_labels[i] == tflite_labels[i];
  const double agreement = static_cast<double>(same) / static_cast<double>(tflite_labels.size());
  std::printf(
      "written dm0.5: %zu bytes; real TFLite output bit-identical to the original's: %s; "
      "ArgMax agreement qseg vs real TFLite: %.4f%%\n",
      static_cast<size_t>(std::filesystem::file_size(written)),
      written_out == original_out ? "yes" : "no", 100 * agreement);
  EXPECT_EQ(same, static_cast<int64_t>(tflite_labels.size()));
}

TEST(RealTflite, RoundTrippedFloatModelGivesTheOriginalLogits) {
  const std::string name = "deeplabv3_257_mv_gpu.tflite";
  const auto written = round_trip(name, "oracle_float257");
  const auto input = test::read_maybe_gzipped(test::shared_path("golden/bird_257.f32.gz"));
  const auto original_out = real_tflite_or_fail(test::shared_path("models/" + name), input);
  const auto written_out = real_tflite_or_fail(written, input);
  ASSERT_EQ(original_out.size(), size_t{257} * 257 * 21 * sizeof(float));
  EXPECT_TRUE(written_out == original_out) << "the written file's logits differ in real TFLite";
}

Tensor make_tensor(std::string name, DataType type, std::vector<int32_t> shape,
                   std::vector<float> scale = {}, int64_t zero_point = 0,
                   int32_t quantized_dimension = 0) {
  Tensor t;
  t.name = std::move(name);
  t.type = type;
  t.shape = std::move(shape);
  t.quant.zero_point.assign(scale.size(), zero_point);
  t.quant.scale = std::move(scale);
  t.quant.quantized_dimension = quantized_dimension;
  return t;
}

template <typename T>
void set_data(Tensor& t, const std::vector<T>& values) {
  t.data.resize(values.size() * sizeof(T));
  std::memcpy(t.data.data(), values.data(), t.data.size());
  t.is_constant = true;
}

// float [1,8,8,3] -> QUANTIZE int8 -> CONV_2D 3x3 (int8 weights per output channel, RELU6) ->
// DEPTHWISE_CONV_2D 3x3 dilated (int8 weights per channel, quantized_dimension 3) -> DEQUANTIZE:
// TFLite's per-channel int8 scheme, as qseg's converter will write it.
Graph per_channel_int8_graph() {
  Graph g;
  const float in_scale = 1.0f / 127;
  const std::vector<float> conv_scales{0.01f, 0.02f, 0.005f, 0.015f};
  const std::vector<float> depthwise_scales{0.03f, 0.01f, 0.02f, 0.04f};
  const float conv_out_scale = 6.0f / 255;
  g.tensors.push_back(make_tensor("input", DataType::kFloat32, {1, 8, 8, 3}));
  g.tensors.push_back(make_tensor("input_int8", DataType::kInt8, {1, 8, 8, 3}, {in_scale}, 0));
  Tensor conv_weights =
      make_tensor("conv/weights", DataType::kInt8, {4, 3, 3, 3}, conv_scales, 0, 0);
  std::vector<int8_t> w(4 * 3 * 3 * 3);
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<int8_t>((i * 37) % 255 - 127);
  set_data(conv_weights, w);
  g.tensors.push_back(std::move(conv_weights));
  std::vector<float> conv_bias_scales;
  for (float s : conv_scales) conv_bias_scales.push_back(in_scale * s);
  Tensor conv_bias = make_tensor("conv/bias", DataType::kInt32, {4}, conv_bias_scales, 0, 0);
  set_data(conv_bias, std::vector<int32_t>{1000, -2000, 500, 0});
  g.tensors.push_back(std::move(conv_bias));
  g.tensors.push_back(make_tensor("conv", DataType::kInt8, {1, 8, 8, 4}, {conv_out_scale}, -128));
  Tensor dw_weights =
      make_tensor("depthwise/weights", DataType::kInt8, {1, 3, 3, 4}, depthwise_scales, 0, 3);
  std::vector<int8_t> dw(3 * 3 * 4);
  for (size_t i = 0; i < dw.size(); ++i) dw[i] = static_cast<int8_t>((i * 53) % 255 - 127);
  set_data(dw_weights, dw);
  g.tensors.push_back(std::move(dw_weights));
  std::vector<float> dw_bias_scales;
  for (float s : depthwise_scales) dw_bias_scales.push_back(conv_out_scale * s);
  Tensor dw_bias = make_tensor("depthwise/bias", DataType::kInt32, {4}, dw_bias_scales, 0, 0);
  set_data(dw_bias, std::vector<int32_t>{-300, 700, 0, 1200});
  g.tensors.push_back(std::move(dw_bias));
  g.tensors.push_back(make_tensor("depthwise", DataType::kInt8, {1, 8, 8, 4}, {0.05f}, 3));
  g.tensors.push_back(make_tensor("output", DataType::kFloat32, {1, 8, 8, 4}));
  // Op versions as TFLite's converter numbers these int8 kernels.
  g.ops.push_back(Op{OpType::kQuantize, 2, {0}, {1}, {}});
  g.ops.push_back(Op{OpType::kConv2d,
                     3,
                     {1, 2, 3},
                     {4},
                     Conv2dOptions{Padding::kSame, 1, 1, 1, 1, Activation::kRelu6}});
  g.ops.push_back(Op{OpType::kDepthwiseConv2d,
                     3,
                     {4, 5, 6},
                     {7},
                     DepthwiseConv2dOptions{Padding::kSame, 1, 1, 2, 2, 1, Activation::kNone}});
  g.ops.push_back(Op{OpType::kDequantize, 2, {7}, {8}, {}});
  g.inputs = {0};
  g.outputs = {8};
  return g;
}

TEST(RealTflite, WrittenPerChannelInt8GraphRunsAsInQseg) {
  const Graph graph = per_channel_int8_graph();
  const auto path = test::temp_dir("oracle_per_channel") / "per_channel_int8.tflite";
  const Status status = write_tflite_file(graph, path);
  ASSERT_TRUE(status.is_ok()) << status.message();
  std::vector<float> input(8 * 8 * 3);
  for (size_t i = 0; i < input.size(); ++i) input[i] = std::sin(0.37f * static_cast<float>(i));
  std::vector<uint8_t> input_bytes(input.size() * sizeof(float));
  std::memcpy(input_bytes.data(), input.data(), input_bytes.size());

  const auto tflite_bytes = real_tflite_or_fail(path, input_bytes);
  ASSERT_EQ(tflite_bytes.size(), size_t{8} * 8 * 4 * sizeof(float));
  std::vector<float> tflite_out(tflite_bytes.size() / sizeof(float));
  std::memcpy(tflite_out.data(), tflite_bytes.data(), tflite_bytes.size());
  int varied = 0;
  for (float v : tflite_out) varied += v != tflite_out[0];
  EXPECT_GT(varied, 0) << "the test graph's output is constant";

  // qseg in both arithmetics: XNNPACK's float requantization must match real TFLite (which runs
  // XNNPACK) bit for bit; the fixed-point reference may differ by one output step (0.05).
  for (const Requantization requantization :
       {Requantization::kXnnpack, Requantization::kFixedPoint}) {
    InterpreterOptions options;
    options.requantization = requantization;
    auto interpreter = Interpreter::create(graph, options);
    ASSERT_TRUE(interpreter.is_ok()) << interpreter.status().message();
    std::memcpy(interpreter.value()->input_bytes().data(), input_bytes.data(), input_bytes.size());
    interpreter.value()->invoke();
    const auto qseg_bytes = interpreter.value()->output_bytes();
    ASSERT_EQ(qseg_bytes.size(), tflite_bytes.size());
    std::vector<float> qseg_out(tflite_out.size());
    std::memcpy(qseg_out.data(), qseg_bytes.data(), qseg_bytes.size());
    float max_difference = 0;
    for (size_t i = 0; i < qseg_out.size(); ++i)
      max_difference = std::max(max_difference, std::fabs(qseg_out[i] - tflite_out[i]));
    const bool is_float = requantization == Requantization::kXnnpack;
    std::printf("per-channel int8 graph, %s arithmetic: max |qseg - real TFLite| = %g\n",
                is_float ? "float" : "fixed-point", max_difference);
    EXPECT_LE(max_difference, is_float ? 0.0f : 0.05f * 1.001f);
  }
}

TEST(RealTflite, MissingOracleIsAClearFailure) {
  const auto model = test::shared_path("models/deeplabv3_mnv2_dm05_pascal_quant.tflite");
  auto output = test::run_real_tflite(model, std::vector<uint8_t>(3), "/nonexistent/oracle");
  ASSERT_FALSE(output.is_ok());
  EXPECT_NE(output.status().message().find("the real-TFLite oracle is not installed in "
                                           "/nonexistent/oracle"),
            std::string::npos)
      << output.status().message();
}

TEST(RealTflite, RejectedRunIsAClearFailure) {
  const auto model = test::shared_path("models/deeplabv3_mnv2_dm05_pascal_quant.tflite");
  auto output = test::run_real_tflite(model, std::vector<uint8_t>(3));
  ASSERT_FALSE(output.is_ok());
  EXPECT_NE(output.status().message().find("input size mismatch"), std::string::npos)
      << output.status().message();
}

}  // namespace
}  // namespace qseg

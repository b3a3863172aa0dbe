// The .tflite reader: the published models map to the expected graphs, and malformed files of
// every kind give one clear error instead of a crash.
#include <gtest/gtest.h>

#include "qseg/tflite.h"
#include "test_util.h"
#include "tiny_model.h"

namespace qseg {
namespace {

using test::build_tflite;
using test::tiny_conv_model;

std::string read_error(const std::vector<uint8_t>& bytes) {
  auto graph = read_tflite(bytes, "m.tflite");
  EXPECT_FALSE(graph.is_ok());
  return graph.is_ok() ? "" : graph.status().message();
}

TEST(TfliteReader, ReadsPublishedUint8Model) {
  auto graph =
      read_tflite_file(test::shared_path("models/deeplabv3_mnv2_dm05_pascal_quant.tflite"));
  ASSERT_TRUE(graph.is_ok()) << graph.status().message();
  EXPECT_EQ(graph->tensors.size(), 186u);
  EXPECT_EQ(graph->ops.size(), 72u);
  const Tensor& in = graph->tensors[graph->inputs[0]];
  EXPECT_EQ(in.type, DataType::kUInt8);
  EXPECT_EQ(in.shape, (std::vector<int32_t>{1, 513, 513, 3}));
  EXPECT_NEAR(in.quant.scale[0], 1.0 / 128, 1e-6);
  EXPECT_EQ(in.quant.zero_point[0], 128);
  const Tensor& out = graph->tensors[graph->outputs[0]];
  EXPECT_EQ(out.type, DataType::kInt64);
  EXPECT_EQ(out.shape, (std::vector<int32_t>{1, 513, 513}));
  EXPECT_EQ(graph->ops[0].type, OpType::kConv2d);
  const auto& conv = graph->ops[0].options_as<Conv2dOptions>();
  EXPECT_EQ(conv.stride_w, 2);
  EXPECT_EQ(conv.activation, Activation::kRelu6);
  EXPECT_EQ(graph->ops.back().type, OpType::kArgMax);
  EXPECT_EQ(graph->ops.back().options_as<ArgMaxOptions>().output_type, DataType::kInt64);
  int quantize = 0, dilated = 0;
  for (const Op& op : graph->ops) {
    quantize += op.type == OpType::kQuantize;
    if (op.type == OpType::kDepthwiseConv2d)
      dilated += op.options_as<DepthwiseConv2dOptions>().dilation_w > 1;
  }
  EXPECT_EQ(quantize, 1);
  EXPECT_GT(dilated, 0);
  // Weights are copied with their exact byte size.
  const Tensor& weights = graph->tensors[graph->ops[0].inputs[1]];
  EXPECT_TRUE(weights.is_constant);
  EXPECT_EQ(static_cast<int64_t>(weights.data.size()), weights.num_elements());
}

TEST(TfliteReader, ReadsFloatModelWithDeprecatedOpCodes) {
  auto graph = read_tflite_file(test::shared_path("models/deeplabv3_257_mv_gpu.tflite"));
  ASSERT_TRUE(graph.is_ok()) << graph.status().message();
  EXPECT_EQ(graph->ops.size(), 70u);
  EXPECT_EQ(graph->tensors[graph->inputs[0]].type, DataType::kFloat32);
  EXPECT_EQ(graph->tensors[graph->outputs[0]].shape, (std::vector<int32_t>{1, 257, 257, 21}));
  int adds = 0;
  for (const Op& op : graph->ops) adds += op.type == OpType::kAdd;
  EXPECT_EQ(adds, 10);
}

TEST(TfliteReader, TinyModelIsValid) {
  auto graph = read_tflite(build_tflite(tiny_conv_model()), "tiny");
  ASSERT_TRUE(graph.is_ok()) << graph.status().message();
  EXPECT_EQ(graph->ops.size(), 1u);
  EXPECT_EQ(graph->tensors[2].data_as<int32_t>()[0], 256);
  EXPECT_EQ(graph->tensors[2].data_as<int32_t>()[1], -1);
}

TEST(TfliteReader, EmptyFile) { EXPECT_NE(read_error({}).find("empty file"), std::string::npos); }

TEST(TfliteReader, MissingFile) {
  auto graph = read_tflite_file("/nonexistent/model.tflite");
  ASSERT_FALSE(graph.is_ok());
  EXPECT_NE(graph.status().message().find("cannot open /nonexistent/model.tflite"),
            std::string::npos);
}

TEST(TfliteReader, WrongIdentifier) {
  auto bytes = build_tflite(tiny_conv_model());
  bytes[4] = 'X';
  EXPECT_NE(read_error(bytes).find("not a TFLite model"), std::string::npos);
}

TEST(TfliteReader, NotAModelAtAll) {
  std::vector<uint8_t> text(100, 'a');
  EXPECT_NE(read_error(text).find("not a TFLite model"), std::string::npos);
}

TEST(TfliteReader, TruncatedAtEveryLength) {
  const auto bytes =
      test::read_file(test::shared_path("models/deeplabv3_mnv2_dm05_pascal_quant.tflite"));
  for (size_t cut :
       {size_t{4}, size_t{8}, size_t{100}, size_t{4096}, bytes.size() / 2, bytes.size() - 1}) {
    std::vector<uint8_t> part(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(cut));
    auto graph = read_tflite(part, "cut.tflite");
    EXPECT_FALSE(graph.is_ok()) << "cut at " << cut;
  }
  // A tiny model truncated at every byte: no crash, always an error.
  const auto tiny = build_tflite(tiny_conv_model());
  for (size_t cut = 0; cut < tiny.size(); ++cut) {
    std::vector<uint8_t> part(tiny.begin(), tiny.begin() + static_cast<std::ptrdiff_t>(cut));
    EXPECT_FALSE(read_tflite(part, "cut").is_ok()) << cut;
  }
}

TEST(TfliteReader, BufferIndexOutOfRange) {
  auto m = tiny_conv_model();
  m.tensors[1].buffer = 99;
  const std::string e = read_error(build_tflite(m));
  EXPECT_NE(e.find("tensor 1 'weights'"), std::string::npos) << e;
  EXPECT_NE(e.find("buffer index 99 is out of range"), std::string::npos) << e;
}

TEST(TfliteReader, TensorIndexOutOfRange) {
  auto m = tiny_conv_model();
  m.op_inputs[1] = 17;
  const std::string e = read_error(build_tflite(m));
  EXPECT_NE(e.find("op 0 (CONV_2D)"), std::string::npos) << e;
  EXPECT_NE(e.find("tensor index 17 is out of range"), std::string::npos) << e;
  m = tiny_conv_model();
  m.outputs = {-5};
  EXPECT_NE(read_error(build_tflite(m)).find("graph output tensor index -5"), std::string::npos);
}

TEST(TfliteReader, NegativeAndHugeShapes) {
  auto m = tiny_conv_model();
  m.tensors[3].shape = {1, -4, 4, 2};
  EXPECT_NE(read_error(build_tflite(m)).find("negative dimension -4"), std::string::npos);
  m = tiny_conv_model();
  m.tensors[3].shape = {1, 1 << 30, 1 << 30, 2};
  EXPECT_NE(read_error(build_tflite(m)).find("more than"), std::string::npos);
  // A zero dim empties the tensor but the other dims still count: the kernels multiply them
  // (the fuzzer's ADD broadcast strides overflowed on [0, 2^31-1, ...]).
  m = tiny_conv_model();
  m.tensors[3].shape = {0, 1 << 30, 1 << 30, 2};
  EXPECT_NE(read_error(build_tflite(m)).find("zero dims counted as 1"), std::string::npos);
  m = tiny_conv_model();
  m.tensors[3].shape = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  EXPECT_NE(read_error(build_tflite(m)).find("rank 10"), std::string::npos);
}

TEST(TfliteReader, BufferSizeMismatch) {
  auto m = tiny_conv_model();
  m.buffers[2].pop_back();
  EXPECT_NE(read_error(build_tflite(m)).find("holds 5 bytes, the shape needs 6"),
            std::string::npos);
}

TEST(TfliteReader, UnsupportedOpNamed) {
  auto m = tiny_conv_model();
  m.builtin_code = 17;  // MAX_POOL_2D
  const std::string e = read_error(build_tflite(m));
  EXPECT_NE(e.find("op 0: MAX_POOL_2D is not supported"), std::string::npos) << e;
  m.builtin_code = 200;  // beyond the known list
  EXPECT_NE(read_error(build_tflite(m)).find("builtin operator 200 is not supported"),
            std::string::npos);
}

TEST(TfliteReader, UnsupportedTypeNamed) {
  auto m = tiny_conv_model();
  m.tensors[3].type = 8;  // COMPLEX64
  const std::string e = read_error(build_tflite(m));
  EXPECT_NE(e.find("tensor 3 'output': type COMPLEX64 is not supported"), std::string::npos) << e;
}

TEST(TfliteReader, BadQuantization) {
  auto m = tiny_conv_model();
  m.tensors[3].scale = {-1.0f};
  EXPECT_NE(read_error(build_tflite(m)).find("not a finite positive number"), std::string::npos);
  m = tiny_conv_model();
  m.tensors[3].zero_point = {0, 1};
  EXPECT_NE(read_error(build_tflite(m)).find("1 scales but 2 zero points"), std::string::npos);
  m = tiny_conv_model();
  m.tensors[1].scale = {0.1f, 0.2f, 0.3f};
  m.tensors[1].zero_point = {0, 0, 0};
  EXPECT_NE(read_error(build_tflite(m)).find("per-channel quantization with 3 scales"),
            std::string::npos);
}

TEST(TfliteReader, OpcodeIndexOutOfRange) {
  auto m = tiny_conv_model();
  m.opcode_index = 4;
  EXPECT_NE(read_error(build_tflite(m)).find("operator code index 4 is out of range"),
            std::string::npos);
}

TEST(TfliteReader, DataflowChecked) {
  auto m = tiny_conv_model();
  m.op_outputs = {0};  // overwrites the graph input
  EXPECT_NE(read_error(build_tflite(m)).find("already defined"), std::string::npos);
  m = tiny_conv_model();
  m.inputs = {3};  // the op then reads tensor 0, which nothing writes
  EXPECT_NE(read_error(build_tflite(m)).find("reads tensor 0 before anything writes it"),
            std::string::npos);
}

TEST(TfliteReader, WrongSchemaVersion) {
  auto m = tiny_conv_model();
  m.version = 2;
  EXPECT_NE(read_error(build_tflite(m)).find("schema version 2"), std::string::npos);
}

TEST(TfliteReader, SizeLimitChecked) {
  ModelLimits limits;
  limits.max_file_bytes = 100;
  auto graph = read_tflite(build_tflite(tiny_conv_model()), "tiny", limits);
  ASSERT_FALSE(graph.is_ok());
  EXPECT_NE(graph.status().message().find("exceeds the model size limit"), std::string::npos);
}

}  // namespace
}  // namespace qseg

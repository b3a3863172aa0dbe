// The .tflite writer: the shared models and a graph with every op and option the IR holds survive
// read -> write -> read unchanged, the bytes pass the FlatBuffers verifier and follow TFLite's
// layout rules, writing is deterministic, and bad graphs or paths give one clear error.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "qseg/tflite.h"
#include "test_util.h"
#include "tflite/schema_generated.h"
#include "tiny_model.h"

namespace qseg {
namespace {

// Every field of an op's options as text, so that a mismatch prints both sides.
std::string describe(const OpOptions& options) {
  std::ostringstream s;
  std::visit(
      [&](const auto& o) {
        using T = std::decay_t<decltype(o)>;
        if constexpr (std::is_same_v<T, Conv2dOptions>) {
          s << "conv pad=" << int(o.padding) << " stride=" << o.stride_w << "," << o.stride_h
            << " dilation=" << o.dilation_w << "," << o.dilation_h << " act=" << int(o.activation);
        } else if constexpr (std::is_same_v<T, DepthwiseConv2dOptions>) {
          s << "depthwise pad=" << int(o.padding) << " stride=" << o.stride_w << "," << o.stride_h
            << " dilation=" << o.dilation_w << "," << o.dilation_h
            << " multiplier=" << o.depth_multiplier << " act=" << int(o.activation);
        } else if constexpr (std::is_same_v<T, Pool2dOptions>) {
          s << "pool pad=" << int(o.padding) << " stride=" << o.stride_w << "," << o.stride_h
            << " filter=" << o.filter_w << "," << o.filter_h << " act=" << int(o.activation);
        } else if constexpr (std::is_same_v<T, AddOptions>) {
          s << "add act=" << int(o.activation);
        } else if constexpr (std::is_same_v<T, ConcatenationOptions>) {
          s << "concat axis=" << o.axis << " act=" << int(o.activation);
        } else if constexpr (std::is_same_v<T, ResizeBilinearOptions>) {
          s << "resize align=" << o.align_corners << " half=" << o.half_pixel_centers;
        } else if constexpr (std::is_same_v<T, ReshapeOptions>) {
          s << "reshape";
          for (int32_t d : o.new_shape) s << " " << d;
        } else if constexpr (std::is_same_v<T, ArgMaxOptions>) {
          s << "argmax type=" << data_type_name(o.output_type);
        } else {
          s << "none";
        }
      },
      options);
  return s.str();
}

// Everything the IR holds must be equal; floats bit for bit.
void expect_same_graph(const Graph& a, const Graph& b) {
  EXPECT_EQ(a.description, b.description);
  EXPECT_EQ(a.class_labels, b.class_labels);
  EXPECT_EQ(a.inputs, b.inputs);
  EXPECT_EQ(a.outputs, b.outputs);
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    const Tensor& x = a.tensors[i];
    const Tensor& y = b.tensors[i];
    SCOPED_TRACE("tensor " + std::to_string(i) + " '" + x.name + "'");
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.type, y.type);
    EXPECT_EQ(x.shape, y.shape);
    EXPECT_EQ(x.is_constant, y.is_constant);
    EXPECT_TRUE(x.data == y.data) << "constant data differs";
    EXPECT_TRUE(std::equal(
        x.quant.scale.begin(), x.quant.scale.end(), y.quant.scale.begin(), y.quant.scale.end(),
        [](float u, float v) { return std::bit_cast<uint32_t>(u) == std::bit_cast<uint32_t>(v); }))
        << "scales differ";
    EXPECT_EQ(x.quant.zero_point, y.quant.zero_point);
    EXPECT_EQ(x.quant.quantized_dimension, y.quant.quantized_dimension);
    EXPECT_EQ(x.quant.min, y.quant.min);
    EXPECT_EQ(x.quant.max, y.quant.max);
  }
  ASSERT_EQ(a.ops.size(), b.ops.size());
  for (size_t i = 0; i < a.ops.size(); ++i) {
    SCOPED_TRACE("op " + std::to_string(i));
    EXPECT_EQ(a.ops[i].type, b.ops[i].type);
    EXPECT_EQ(a.ops[i].version, b.ops[i].version);
    EXPECT_EQ(a.ops[i].inputs, b.ops[i].inputs);
    EXPECT_EQ(a.ops[i].outputs, b.ops[i].outputs);
    EXPECT_EQ(describe(a.ops[i].options), describe(b.ops[i].options));
  }
}

std::vector<uint8_t> write_or_fail(const Graph& graph) {
  auto bytes = write_tflite(graph);
  EXPECT_TRUE(bytes.is_ok()) << bytes.status().message();
  return bytes.is_ok() ? std::move(bytes).value() : std::vector<uint8_t>{};
}

// The layout rules TFLite relies on, checked on the FlatBuffer itself.
void expect_tflite_layout(const std::vector<uint8_t>& bytes) {
  flatbuffers::Verifier verifier(bytes.data(), bytes.size());
  ASSERT_TRUE(tflite::VerifyModelBuffer(verifier)) << "FlatBuffer verification failed";
  const tflite::Model* model = tflite::GetModel(bytes.data());
  EXPECT_EQ(model->version(), 3u);
  ASSERT_TRUE(model->buffers() && model->buffers()->size() > 0);
  const auto* sentinel = model->buffers()->Get(0);
  EXPECT_TRUE(!sentinel->data() || sentinel->data()->size() == 0) << "buffer 0 must be empty";
  for (const auto* buffer : *model->buffers()) {
    if (!buffer->data() || buffer->data()->size() == 0) continue;
    EXPECT_EQ((buffer->data()->data() - bytes.data()) % 16, 0) << "constant data not aligned";
  }
  for (const auto* code : *model->operator_codes()) {
    const int32_t builtin = static_cast<int32_t>(code->builtin_code());
    EXPECT_EQ(code->deprecated_builtin_code(), std::min(builtin, 127));
  }
}

class WriterRoundTrip : public testing::TestWithParam<const char*> {};

TEST_P(WriterRoundTrip, SharedModelSurvivesReadWriteRead) {
  const auto path = test::shared_path(std::string("models/") + GetParam());
  auto original = read_tflite_file(path);
  ASSERT_TRUE(original.is_ok()) << original.status().message();
  const std::vector<uint8_t> bytes = write_or_fail(original.value());
  ASSERT_FALSE(bytes.empty());
  expect_tflite_layout(bytes);
  auto reread = read_tflite(bytes, "written");
  ASSERT_TRUE(reread.is_ok()) << reread.status().message();
  expect_same_graph(original.value(), reread.value());
  // Deterministic: the re-read graph writes the very same bytes.
  EXPECT_TRUE(write_or_fail(reread.value()) == bytes) << "second write differs";
  std::printf("%s: %ju bytes read, %zu bytes written\n", GetParam(),
              static_cast<uintmax_t>(std::filesystem::file_size(path)), bytes.size());
}

INSTANTIATE_TEST_SUITE_P(SharedModels, WriterRoundTrip,
                         testing::Values("deeplabv3_mnv2_dm05_pascal_quant.tflite",
                                         "deeplabv3_mnv2_pascal_quant.tflite",
                                         "deeplabv3_257_mv_gpu.tflite"),
                         [](const auto& info) {
                           const std::string name = info.param;
                           return name.find("dm05") != std::string::npos  ? std::string("Dm05")
                                  : name.find("257") != std::string::npos ? std::string("Float257")
                                                                          : std::string("Dm10");
                         });

template <typename T>
std::vector<uint8_t> bytes_of(const std::vector<T>& values) {
  std::vector<uint8_t> bytes(values.size() * sizeof(T));
  std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

Quantization quantization(std::vector<float> scale, std::vector<int64_t> zero_point,
                          int32_t dimension = 0) {
  Quantization q;
  q.scale = std::move(scale);
  q.zero_point = std::move(zero_point);
  q.quantized_dimension = dimension;
  return q;
}

Quantization range(float min, float max) {
  Quantization q;
  q.min = {min};
  q.max = {max};
  return q;
}

int32_t add_tensor(Graph& g, std::string name, DataType type, std::vector<int32_t> shape,
                   Quantization quant = {}, std::vector<uint8_t> data = {}) {
  Tensor t;
  t.name = std::move(name);
  t.type = type;
  t.shape = std::move(shape);
  t.quant = std::move(quant);
  t.is_constant = !data.empty();
  t.data = std::move(data);
  g.tensors.push_back(std::move(t));
  return static_cast<int32_t>(g.tensors.size() - 1);
}

void add_op(Graph& g, OpType type, std::vector<int32_t> inputs, std::vector<int32_t> outputs,
            OpOptions options = {}, int32_t version = 1) {
  g.ops.push_back(Op{type, version, std::move(inputs), std::move(outputs), std::move(options)});
}

// Every op type and option the reader knows, per-channel int8 weights along dimensions 0 and 3,
// non-default values everywhere, an absent optional input and every tensor type.
Graph every_op_graph() {
  Graph g;
  g.description = "qseg writer test";
  Quantization u8 = quantization({1.0f / 128}, {128});
  u8.min = {-1.0f};  // a scale and a range together
  u8.max = {0.9921875f};
  const Quantization s8 = quantization({0.05f}, {-3});
  const int32_t in = add_tensor(g, "input", DataType::kUInt8, {1, 8, 8, 3}, u8);
  const int32_t q = add_tensor(g, "quantized", DataType::kInt8, {1, 8, 8, 3}, s8);
  std::vector<int8_t> conv_w(4 * 3 * 3 * 3);
  for (size_t i = 0; i < conv_w.size(); ++i) conv_w[i] = static_cast<int8_t>(i * 7 - 100);
  const int32_t cw =
      add_tensor(g, "conv/weights", DataType::kInt8, {4, 3, 3, 3},
                 quantization({0.01f, 0.02f, 0.03f, 0.04f}, {0, 0, 0, 0}), bytes_of(conv_w));
  const int32_t cb = add_tensor(g, "conv/bias", DataType::kInt32, {4},
                                quantization({5e-4f, 1e-3f, 1.5e-3f, 2e-3f}, {0, 0, 0, 0}),
                                bytes_of(std::vector<int32_t>{-7, 0, 123456, -2147483647}));
  const int32_t c = add_tensor(g, "conv", DataType::kInt8, {1, 4, 4, 4}, s8);
  add_op(g, OpType::kQuantize, {in}, {q}, {}, 2);
  add_op(g, OpType::kConv2d, {q, cw, cb}, {c},
         Conv2dOptions{Padding::kValid, 2, 2, 1, 1, Activation::kRelu6}, 3);
  const int32_t dw =
      add_tensor(g, "depthwise/weights", DataType::kInt8, {1, 3, 3, 8},
                 quantization(std::vector<float>(8, 0.5f), std::vector<int64_t>(8, 0), 3),
                 std::vector<uint8_t>(72, 0x81));
  const int32_t d = add_tensor(g, "depthwise", DataType::kInt8, {1, 4, 4, 8}, s8);
  add_op(g, OpType::kDepthwiseConv2d, {c, dw, kNoTensor}, {d},
         DepthwiseConv2dOptions{Padding::kSame, 1, 1, 2, 2, 2, Activation::kRelu}, 2);
  const int32_t p = add_tensor(g, "pool", DataType::kInt8, {1, 2, 2, 8}, s8);
  add_op(g, OpType::kAveragePool2d, {d}, {p},
         Pool2dOptions{Padding::kValid, 2, 2, 2, 2, Activation::kNone});
  const int32_t size =
      add_tensor(g, "size", DataType::kInt32, {2}, {}, bytes_of(std::vector<int32_t>{4, 4}));
  const int32_t r = add_tensor(g, "resize", DataType::kInt8, {1, 4, 4, 8}, s8);
  add_op(g, OpType::kResizeBilinear, {p, size}, {r}, ResizeBilinearOptions{false, true}, 3);
  const int32_t a = add_tensor(g, "add", DataType::kInt8, {1, 4, 4, 8}, s8);
  add_op(g, OpType::kAdd, {d, r}, {a}, AddOptions{Activation::kReluN1To1}, 2);
  const int32_t cat = add_tensor(g, "concat", DataType::kInt8, {1, 4, 4, 16}, s8);
  add_op(g, OpType::kConcatenation, {a, d}, {cat}, ConcatenationOptions{-1, Activation::kNone});
  const int32_t f = add_tensor(g, "dequantized", DataType::kFloat32, {1, 4, 4, 16},
                               range(-0.15f, 6.35f));  // a float tensor's range
  add_op(g, OpType::kDequantize, {cat}, {f});
  const int32_t rs = add_tensor(g, "reshape", DataType::kFloat32, {1, 16, 16});
  add_op(g, OpType::kReshape, {f}, {rs}, ReshapeOptions{{1, 16, 16}});
  const int32_t shape =
      add_tensor(g, "shape", DataType::kInt32, {3}, {}, bytes_of(std::vector<int32_t>{1, 256, 1}));
  const int32_t rs2 = add_tensor(g, "reshape_from_input", DataType::kFloat32, {1, 256, 1});
  add_op(g, OpType::kReshape, {rs, shape}, {rs2}, ReshapeOptions{});
  const int32_t axis =
      add_tensor(g, "axis", DataType::kInt32, {}, {}, bytes_of(std::vector<int32_t>{1}));
  const int32_t am = add_tensor(g, "argmax", DataType::kInt32, {1, 1});
  add_op(g, OpType::kArgMax, {rs2, axis}, {am}, ArgMaxOptions{DataType::kInt32});
  // Constants of the remaining types, unused by the ops.
  add_tensor(g, "int16", DataType::kInt16, {2}, quantization({0.25f}, {0}),
             bytes_of(std::vector<int16_t>{-32768, 32767}));
  add_tensor(g, "int64", DataType::kInt64, {1}, {}, bytes_of(std::vector<int64_t>{-1}));
  add_tensor(g, "bool", DataType::kBool, {3}, {}, {1, 0, 1});
  g.inputs = {in};
  g.outputs = {am, f};
  return g;
}

TEST(TfliteWriter, EveryOpAndOptionSurvivesRoundTrip) {
  const Graph graph = every_op_graph();
  const std::vector<uint8_t> bytes = write_or_fail(graph);
  ASSERT_FALSE(bytes.empty());
  expect_tflite_layout(bytes);
  auto reread = read_tflite(bytes, "every_op");
  ASSERT_TRUE(reread.is_ok()) << reread.status().message();
  expect_same_graph(graph, reread.value());
  EXPECT_TRUE(write_or_fail(reread.value()) == bytes);
}

TEST(TfliteWriter, ClassLabelsTravelInAMetadataBuffer) {
  const std::string labels = "road #804080\nsky #4682B4\ncar #00008E\n";
  const Graph graph = test::constant_class_graph(3, 2, /*argmax=*/true, 8, labels);
  auto bytes = write_tflite(graph);
  ASSERT_TRUE(bytes.is_ok()) << bytes.status().message();
  // The public schema's layout: one "qseg_labels" metadata entry naming a buffer of the text.
  const auto* model = ::tflite::GetModel(bytes->data());
  ASSERT_NE(model->metadata(), nullptr);
  ASSERT_EQ(model->metadata()->size(), 1u);
  const auto* entry = model->metadata()->Get(0);
  EXPECT_EQ(entry->name()->str(), "qseg_labels");
  ASSERT_LT(entry->buffer(), model->buffers()->size());
  const auto* data = model->buffers()->Get(entry->buffer())->data();
  ASSERT_NE(data, nullptr);
  EXPECT_EQ(std::string(data->begin(), data->end()), labels);
  EXPECT_EQ(model->metadata_buffer(), nullptr);
  auto back = read_tflite(*bytes, "labels.tflite");
  ASSERT_TRUE(back.is_ok()) << back.status().message();
  expect_same_graph(graph, *back);
  // Without labels there is no metadata at all (the bytes of models without names are as before).
  auto plain = write_tflite(test::constant_class_graph(3, 2, true));
  ASSERT_TRUE(plain.is_ok());
  EXPECT_EQ(::tflite::GetModel(plain->data())->metadata(), nullptr);
  EXPECT_TRUE(read_tflite(*plain, "plain.tflite")->class_labels.empty());
}

TEST(TfliteReader, ClassLabelsMetadataIsChecked) {
  // A metadata entry naming a buffer that does not exist.
  flatbuffers::FlatBufferBuilder b;
  const auto input = ::tflite::CreateTensor(b, b.CreateVector(std::vector<int32_t>{1}),
                                            ::tflite::TensorType::FLOAT32, 0, b.CreateString("x"));
  const auto subgraph = ::tflite::CreateSubGraph(
      b, b.CreateVector(std::vector{input}), b.CreateVector(std::vector<int32_t>{0}),
      b.CreateVector(std::vector<int32_t>{0}),
      b.CreateVector(std::vector<flatbuffers::Offset<::tflite::Operator>>{}));
  const auto metadata = b.CreateVector(std::vector{
      ::tflite::CreateMetadata(b, b.CreateString("other"), 7),  // unknown names are skipped
      ::tflite::CreateMetadata(b, b.CreateString("qseg_labels"), 5)});
  const auto model = ::tflite::CreateModel(
      b, 3, b.CreateVector(std::vector<flatbuffers::Offset<::tflite::OperatorCode>>{}),
      b.CreateVector(std::vector{subgraph}), 0,
      b.CreateVector(std::vector{::tflite::CreateBuffer(b)}), 0, metadata);
  ::tflite::FinishModelBuffer(b, model);
  const std::vector<uint8_t> bytes(b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize());
  auto graph = read_tflite(bytes, "m.tflite");
  ASSERT_FALSE(graph.is_ok());
  EXPECT_NE(graph.status().message().find(
                "m.tflite: metadata qseg_labels: buffer 5 is out of range (1 buffers)"),
            std::string::npos)
      << graph.status().message();
}

TEST(TfliteWriter, OneOperatorCodePerTypeAndVersion) {
  Graph graph = every_op_graph();
  graph.ops[1].version = 1;  // conv v1 beside...
  graph.ops.push_back(graph.ops[1]);
  graph.ops.back().version = 3;  // ...conv v3: two codes for CONV_2D
  graph.ops.back().outputs = {add_tensor(graph, "conv2", DataType::kInt8, {1, 4, 4, 4})};
  const std::vector<uint8_t> bytes = write_or_fail(graph);
  ASSERT_FALSE(bytes.empty());
  const tflite::Model* model = tflite::GetModel(bytes.data());
  // QUANTIZE, CONV_2D v1, DEPTHWISE, POOL, RESIZE, ADD, CONCAT, DEQUANTIZE, RESHAPE, ARG_MAX,
  // CONV_2D v3.
  ASSERT_EQ(model->operator_codes()->size(), 11u);
  const auto* last = model->operator_codes()->Get(10);
  EXPECT_EQ(last->builtin_code(), tflite::BuiltinOperator::CONV_2D);
  EXPECT_EQ(last->deprecated_builtin_code(), 3);
  EXPECT_EQ(last->version(), 3);
  const auto* quantize = model->operator_codes()->Get(0);
  EXPECT_EQ(quantize->builtin_code(), tflite::BuiltinOperator::QUANTIZE);
  EXPECT_EQ(quantize->deprecated_builtin_code(), 114);
  EXPECT_EQ(model->subgraphs()->Get(0)->operators()->Get(1)->opcode_index(), 1u);
  EXPECT_EQ(model->subgraphs()->Get(0)->operators()->Get(11)->opcode_index(), 10u);
}

TEST(TfliteWriter, FileWriteReadsBackAndReplacesOldFile) {
  const auto dir = test::temp_dir("writer_replace");
  const auto path = dir / "m.tflite";
  test::write_file(path, {1, 2, 3});
  const Graph graph = every_op_graph();
  ASSERT_TRUE(write_tflite_file(graph, path).is_ok());
  EXPECT_TRUE(test::read_file(path) == write_or_fail(graph));
  EXPECT_FALSE(std::filesystem::exists(dir / "m.tflite.tmp"));
  auto reread = read_tflite_file(path);
  ASSERT_TRUE(reread.is_ok()) << reread.status().message();
}

// One error line naming the file; neither the file nor its temporary is left behind.
void expect_write_fails(const std::filesystem::path& path, const std::string& message_part,
                        const Graph& graph = every_op_graph()) {
  const Status status = write_tflite_file(graph, path);
  ASSERT_FALSE(status.is_ok());
  const std::string& message = status.message();
  EXPECT_NE(message.find("cannot write " + path.string()), std::string::npos) << message;
  EXPECT_NE(message.find(message_part), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  EXPECT_FALSE(std::filesystem::exists(path.string() + ".tmp"));
}

TEST(TfliteWriter, MissingFolderIsOneClearError) {
  const auto dir = test::temp_dir("writer_missing_folder");
  expect_write_fails(dir / "no_such_folder" / "m.tflite", "No such file or directory");
  EXPECT_FALSE(std::filesystem::exists(dir / "no_such_folder"));
}

TEST(TfliteWriter, PathThatIsAFolderLeavesNothingBehind) {
  const auto dir = test::temp_dir("writer_path_is_folder");
  std::filesystem::create_directory(dir / "m.tflite");
  expect_write_fails(dir / "m.tflite", "Is a directory");
  EXPECT_TRUE(std::filesystem::is_directory(dir / "m.tflite"));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir),
                          std::filesystem::directory_iterator()),
            1);
}

TEST(TfliteWriter, BadGraphsAreRefusedBeforeAnythingIsWritten) {
  const auto dir = test::temp_dir("writer_bad_graph");
  const auto path = dir / "m.tflite";
  Graph bad_index = every_op_graph();
  bad_index.ops[2].inputs[0] = 999;
  expect_write_fails(path, "op 2 (DEPTHWISE_CONV_2D): input tensor index 999 is out of range",
                     bad_index);
  Graph bad_data = every_op_graph();
  bad_data.tensors[2].data.pop_back();
  expect_write_fails(path, "tensor 2 'conv/weights': holds 107 bytes of data, the shape needs 108",
                     bad_data);
  Graph bad_quant = every_op_graph();
  bad_quant.tensors[2].quant.quantized_dimension = 3;
  expect_write_fails(path, "per-channel quantization with 4 scales does not match dimension 3",
                     bad_quant);
  Graph bad_range = every_op_graph();
  bad_range.tensors[0].quant.max.clear();
  expect_write_fails(path, "tensor 0 'input': quantization range has 1 min and 0 max values",
                     bad_range);
  Graph bad_options = every_op_graph();
  bad_options.ops[1].options = AddOptions{};
  expect_write_fails(path, "op 1 (CONV_2D): its options do not match the op type", bad_options);
  Graph no_outputs = every_op_graph();
  no_outputs.outputs.clear();
  expect_write_fails(path, "the graph has no inputs or no outputs", no_outputs);
  EXPECT_FALSE(std::filesystem::exists(path));

  auto in_memory = write_tflite(bad_index);
  ASSERT_FALSE(in_memory.is_ok());
  EXPECT_EQ(in_memory.status().message().rfind("cannot write TFLite model: op 2", 0), 0u)
      << in_memory.status().message();
}

}  // namespace
}  // namespace qseg

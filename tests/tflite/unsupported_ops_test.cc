// Models with ops qseg cannot run: the reader keeps every such op (builtin or custom, known to the
// schema or not, with options of any table) with its name, code and tensors, and still checks
// everything else; the interpreter and the writer refuse them with one clear error naming the
// first one; a corrupt copy of the same file is still one error.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "graph/validate.h"
#include "qseg/interpreter.h"
#include "qseg/tflite.h"
#include "tflite/schema_generated.h"

namespace qseg {
namespace {

namespace fb = ::flatbuffers;
using ::tflite::BuiltinOperator;
using ::tflite::BuiltinOptions;

struct FileOp {
  BuiltinOperator code;
  std::string custom_code;  // for CUSTOM
  std::vector<int32_t> inputs, outputs;
  BuiltinOptions options_type = BuiltinOptions::NONE;
};

// float [1,4] input t0, constant t1 = [1,4] of 0.5, activations t2..t2+n; the ops as given (each
// with an empty options table of its declared type, CUSTOM ops with two bytes of custom
// options); the last activation is the output.
std::vector<uint8_t> build_model(const std::vector<FileOp>& ops, int activations) {
  fb::FlatBufferBuilder b;
  const std::vector<float> half(4, 0.5f);
  const std::vector<uint8_t> half_bytes(reinterpret_cast<const uint8_t*>(half.data()),
                                        reinterpret_cast<const uint8_t*>(half.data()) + 16);
  std::vector<fb::Offset<::tflite::Buffer>> buffers{::tflite::CreateBuffer(b),
                                                    ::tflite::CreateBufferDirect(b, &half_bytes)};
  std::vector<fb::Offset<::tflite::Tensor>> tensors;
  const std::vector<int32_t> shape{1, 4};
  for (int i = 0; i < 2 + activations; ++i) {
    const std::string name = "t" + std::to_string(i);
    tensors.push_back(::tflite::CreateTensorDirect(b, &shape, ::tflite::TensorType::FLOAT32,
                                                   i == 1 ? 1 : 0, name.c_str()));
  }
  std::vector<fb::Offset<::tflite::OperatorCode>> codes;
  std::vector<fb::Offset<::tflite::Operator>> operators;
  for (const FileOp& op : ops) {
    const auto code = static_cast<int32_t>(op.code);
    codes.push_back(::tflite::CreateOperatorCodeDirect(
        b, static_cast<int8_t>(code < 127 ? code : 127),
        op.custom_code.empty() ? nullptr : op.custom_code.c_str(), 1, op.code));
    // Any table will do as an options table the reader does not read: an empty one.
    const fb::Offset<void> options =
        op.options_type == BuiltinOptions::NONE ? 0 : ::tflite::CreateTileOptions(b).Union();
    const std::vector<uint8_t> custom_options{1, 2};
    operators.push_back(::tflite::CreateOperatorDirect(
        b, static_cast<uint32_t>(codes.size() - 1), &op.inputs, &op.outputs, op.options_type,
        options, op.code == BuiltinOperator::CUSTOM ? &custom_options : nullptr));
  }
  const std::vector<int32_t> inputs{0}, outputs{1 + activations};
  const auto subgraph = ::tflite::CreateSubGraphDirect(b, &tensors, &inputs, &outputs, &operators);
  const std::vector<fb::Offset<::tflite::SubGraph>> subgraphs{subgraph};
  ::tflite::FinishModelBuffer(
      b, ::tflite::CreateModelDirect(b, 3, &codes, &subgraphs, "unsupported ops", &buffers));
  return {b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize()};
}

// ADD (runs) -> SQUARED_DIFFERENCE (builtin 99, with its options table) -> CUSTOM 'MyPostProcess'
// -> GELU (code 150, past the union qseg's schema declares: options type 140).
std::vector<uint8_t> mixed_model() {
  return build_model({{BuiltinOperator::ADD, "", {0, 1}, {2}, BuiltinOptions::NONE},
                      {BuiltinOperator::SQUARED_DIFFERENCE,
                       "",
                       {2, 1},
                       {3},
                       BuiltinOptions::SquaredDifferenceOptions},
                      {BuiltinOperator::CUSTOM, "MyPostProcess", {3}, {4}, BuiltinOptions::NONE},
                      {BuiltinOperator::GELU, "", {4}, {5}, static_cast<BuiltinOptions>(140)}},
                     4);
}

TEST(UnsupportedOps, AreReadWithNameCodeAndTensors) {
  auto graph = read_tflite(mixed_model(), "mixed.tflite");
  ASSERT_TRUE(graph.is_ok()) << graph.status().message();
  ASSERT_EQ(graph->ops.size(), 4u);
  EXPECT_EQ(graph->ops[0].type, OpType::kAdd);
  EXPECT_EQ(graph->tensors.size(), 6u);
  EXPECT_EQ(graph->tensors[1].data.size(), 16u);  // constants fully read
  struct Expected {
    int code;
    const char* name;
    const char* custom;
  };
  const Expected expected[] = {
      {99, "SQUARED_DIFFERENCE", ""}, {32, "CUSTOM", "MyPostProcess"}, {150, "GELU", ""}};
  for (int i = 1; i < 4; ++i) {
    const Op& op = graph->ops[i];
    ASSERT_EQ(op.type, OpType::kUnsupported) << i;
    const auto& o = op.options_as<UnsupportedOptions>();
    EXPECT_EQ(o.builtin_code, expected[i - 1].code);
    EXPECT_EQ(o.tflite_name, expected[i - 1].name);
    EXPECT_EQ(o.custom_code, expected[i - 1].custom);
    EXPECT_EQ(op.outputs, std::vector<int32_t>{i + 2});
  }
  EXPECT_EQ(op_name(graph->ops[2]), "CUSTOM 'MyPostProcess'");
  EXPECT_EQ(unsupported_ops(graph.value()), (std::vector<int>{1, 2, 3}));
}

TEST(UnsupportedOps, InterpreterAndWriterRefuseTheFirstOne) {
  auto graph = read_tflite(mixed_model(), "mixed.tflite");
  ASSERT_TRUE(graph.is_ok()) << graph.status().message();
  auto interpreter = Interpreter::create(graph.value());
  ASSERT_FALSE(interpreter.is_ok());
  EXPECT_EQ(interpreter.status().message(),
            "op 1 (SQUARED_DIFFERENCE): qseg cannot run this op (TFLite builtin code 99); 3 ops "
            "of the model cannot run (qseg inspect lists every op)");
  auto written = write_tflite(graph.value());
  ASSERT_FALSE(written.is_ok());
  EXPECT_EQ(written.status().message(),
            "cannot write TFLite model: op 1 (SQUARED_DIFFERENCE): is an op qseg cannot run; qseg "
            "writes only the ops it runs (its options were not read)");
  // The custom op alone: named by its custom code.
  auto custom = read_tflite(
      build_model({{BuiltinOperator::CUSTOM, "MyPostProcess", {0}, {2}, BuiltinOptions::NONE}}, 1),
      "custom.tflite");
  ASSERT_TRUE(custom.is_ok()) << custom.status().message();
  auto refused = Interpreter::create(custom.value());
  ASSERT_FALSE(refused.is_ok());
  EXPECT_EQ(refused.status().message(),
            "op 0 (CUSTOM 'MyPostProcess'): qseg cannot run this op (TFLite builtin code 32) "
            "(qseg inspect lists every op)");
}

TEST(UnsupportedOps, EverythingElseIsStillValidated) {
  // An unsupported op reading a tensor that nothing wrote yet: a dataflow error naming it.
  auto bytes =
      build_model({{BuiltinOperator::SQUARED_DIFFERENCE, "", {3, 1}, {2}, BuiltinOptions::NONE},
                   {BuiltinOperator::ADD, "", {2, 1}, {3}, BuiltinOptions::NONE}},
                  2);
  auto graph = read_tflite(bytes, "order.tflite");
  ASSERT_FALSE(graph.is_ok());
  EXPECT_EQ(graph.status().message(),
            "order.tflite: op 0 (SQUARED_DIFFERENCE) reads tensor 3 before anything writes it");
  // An index out of range on an unsupported op.
  bytes = build_model({{BuiltinOperator::CUSTOM, "X", {0, 9}, {2}, BuiltinOptions::NONE}}, 1);
  graph = read_tflite(bytes, "index.tflite");
  ASSERT_FALSE(graph.is_ok());
  EXPECT_EQ(graph.status().message(),
            "index.tflite: op 0 (CUSTOM 'X'): input tensor index 9 is out of range (3 tensors)");
  // A corrupt copy of a model with unsupported ops: one error, no crash, at every cut.
  const std::vector<uint8_t> whole = mixed_model();
  for (size_t cut = 8; cut < whole.size(); cut += 7) {
    const std::vector<uint8_t> part(whole.begin(), whole.begin() + static_cast<long>(cut));
    auto truncated = read_tflite(part, "cut.tflite");
    EXPECT_FALSE(truncated.is_ok()) << cut;
  }
}

}  // namespace
}  // namespace qseg

// validate_graph on graphs built in memory and broken one field at a time: Interpreter::create
// and the writer refuse each with an error naming the tensor or op, instead of indexing past
// the tensors (run under AddressSanitizer by scripts/test.sh).
#include "graph/validate.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "qseg/interpreter.h"
#include "qseg/tflite.h"

namespace qseg {
namespace {

// input [1,2,2,3] uint8 -> ADD (input, constant) -> QUANTIZE -> output [1,2,2,3] uint8.
Graph small_graph() {
  Graph g;
  Quantization q;
  q.scale = {0.5f};
  q.zero_point = {10};
  const std::vector<int32_t> shape = {1, 2, 2, 3};
  g.tensors.push_back({"input", DataType::kUInt8, shape, q, {}, false});
  g.tensors.push_back({"constant", DataType::kUInt8, shape, q, std::vector<uint8_t>(12, 20), true});
  g.tensors.push_back({"sum", DataType::kUInt8, shape, q, {}, false});
  g.tensors.push_back({"output", DataType::kUInt8, shape, q, {}, false});
  g.ops.push_back({OpType::kAdd, 1, {0, 1}, {2}, AddOptions{}});
  g.ops.push_back({OpType::kQuantize, 1, {2}, {3}, {}});
  g.inputs = {0};
  g.outputs = {3};
  return g;
}

// Every consumer refuses `graph` with an error containing `fragment`.
void expect_refused(const Graph& graph, const std::string& fragment) {
  const Status status = validate_graph(graph);
  ASSERT_FALSE(status.is_ok()) << fragment;
  EXPECT_NE(status.message().find(fragment), std::string::npos) << status.message();
  for (const KernelIsa isa : {KernelIsa::kReference, KernelIsa::kAuto}) {
    InterpreterOptions options;
    options.kernel_isa = isa;
    auto created = Interpreter::create(graph, options);
    ASSERT_FALSE(created.is_ok()) << fragment;
    EXPECT_NE(created.status().message().find(fragment), std::string::npos)
        << created.status().message();
  }
  auto written = write_tflite(graph);
  ASSERT_FALSE(written.is_ok()) << fragment;
  EXPECT_NE(written.status().message().find(fragment), std::string::npos)
      << written.status().message();
}

TEST(ValidateGraph, TheSmallGraphIsValidAndRuns) {
  const Graph g = small_graph();
  ASSERT_TRUE(validate_graph(g).is_ok()) << validate_graph(g).message();
  auto created = Interpreter::create(g);
  ASSERT_TRUE(created.is_ok()) << created.status().message();
  created.value()->invoke();
  EXPECT_TRUE(write_tflite(g).is_ok());
}

TEST(ValidateGraph, OpTensorIndicesOutOfRange) {
  Graph g = small_graph();
  g.ops[0].inputs[1] = 4;
  expect_refused(g, "op 0 (ADD): input tensor index 4 is out of range (4 tensors)");
  g = small_graph();
  g.ops[1].outputs[0] = -7;
  expect_refused(g, "op 1 (QUANTIZE): output tensor index -7 is out of range");
  g = small_graph();
  g.ops[1].outputs[0] = kNoTensor;  // absent is allowed for inputs only
  expect_refused(g, "op 1 (QUANTIZE): output tensor index -1 is out of range");
  g = small_graph();
  g.ops[1].outputs.clear();
  expect_refused(g, "op 1 (QUANTIZE): has no outputs");
}

// kNoTensor is a valid op input (an absent optional input): the graph is valid, and the op's
// prepare refuses it where the input is required.
TEST(ValidateGraph, AbsentRequiredInputIsRefusedByThePrepare) {
  Graph g = small_graph();
  g.ops[0].inputs[1] = kNoTensor;
  EXPECT_TRUE(validate_graph(g).is_ok());
  for (const KernelIsa isa : {KernelIsa::kReference, KernelIsa::kAuto}) {
    InterpreterOptions options;
    options.kernel_isa = isa;
    auto created = Interpreter::create(g, options);
    ASSERT_FALSE(created.is_ok());
    EXPECT_NE(created.status().message().find("op 0 (ADD): input 1 is missing"), std::string::npos)
        << created.status().message();
  }
}

TEST(ValidateGraph, GraphInputsAndOutputsOutOfRange) {
  Graph g = small_graph();
  g.inputs = {12};
  expect_refused(g, "graph input tensor index 12 is out of range (4 tensors)");
  g = small_graph();
  g.outputs = {kNoTensor};
  expect_refused(g, "graph output tensor index -1 is out of range");
  g = small_graph();
  g.outputs.clear();
  expect_refused(g, "the graph has no inputs or no outputs");
}

TEST(ValidateGraph, DataflowOrder) {
  Graph g = small_graph();
  std::swap(g.ops[0], g.ops[1]);  // QUANTIZE reads the sum before ADD writes it
  expect_refused(g, "op 0 (QUANTIZE) reads tensor 2 before anything writes it");
  g = small_graph();
  g.ops[1].outputs = {2};  // the sum written twice
  expect_refused(g, "op 1 (QUANTIZE) writes tensor 2, which is already defined");
  g = small_graph();
  g.ops[0].outputs = {1};  // overwrites the constant
  expect_refused(g, "op 0 (ADD) writes tensor 1, which is already defined");
  g = small_graph();
  g.outputs = {2, 3};
  g.ops.pop_back();
  expect_refused(g, "graph output tensor 3 is never written");
  g = small_graph();
  g.inputs = {1};
  expect_refused(g, "graph input 1 is a constant");
}

TEST(ValidateGraph, TensorsAndBuffers) {
  Graph g = small_graph();
  g.tensors[1].data.pop_back();
  expect_refused(g, "tensor 1 'constant': holds 11 bytes of data, the shape needs 12");
  g = small_graph();
  g.tensors[1].data.clear();
  expect_refused(g, "tensor 1 'constant': is marked constant but holds no data");
  g = small_graph();
  g.tensors[2].shape = {1, -2, 2, 3};
  expect_refused(g, "tensor 2 'sum': negative dimension -2 in shape");
  g = small_graph();
  g.tensors[2].shape = {1 << 30, 1 << 30, 4, 1};
  expect_refused(g, "tensor 2 'sum': shape holds more than 2^40 elements");
  g = small_graph();
  g.tensors[3].type = static_cast<DataType>(42);
  expect_refused(g, "tensor 3 'output': type 42 is not valid");
}

TEST(ValidateGraph, QuantizationParameters) {
  Graph g = small_graph();
  g.tensors[0].quant.scale = {0.0f};
  expect_refused(g, "tensor 0 'input': quantization scale 0.000000 is not a finite positive");
  g = small_graph();
  g.tensors[0].quant.zero_point = {1, 2};
  expect_refused(g, "tensor 0 'input': quantization has 1 scales but 2 zero points");
  g = small_graph();
  g.tensors[3].quant.zero_point = {70000};
  expect_refused(g, "tensor 3 'output': zero point 70000 is out of range");
  g = small_graph();
  g.tensors[1].quant.scale = {0.5f, 0.5f};
  g.tensors[1].quant.zero_point = {0, 0};
  g.tensors[1].quant.quantized_dimension = 3;
  expect_refused(g, "per-channel quantization with 2 scales does not match dimension 3");
  g = small_graph();
  g.tensors[0].quant.min = {1.0f};
  g.tensors[0].quant.max = {-1.0f};
  expect_refused(g, "tensor 0 'input': quantization range [1.000000, -1.000000] is not a finite");
}

TEST(ValidateGraph, OpTypesAndOptions) {
  Graph g = small_graph();
  g.ops[0].options = Conv2dOptions{};
  expect_refused(g, "op 0 (ADD): its options do not match the op type");
  g = small_graph();
  g.ops[1].type = static_cast<OpType>(200);
  expect_refused(g, "op type 200 is not valid");
}

}  // namespace
}  // namespace qseg

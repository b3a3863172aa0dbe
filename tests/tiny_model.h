// Builds small .tflite files in memory for tests: a valid one-conv uint8 model whose fields
// tests can break one at a time (indices, shapes, types, identifiers, op codes).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "qseg/graph.h"

namespace qseg::test {

struct TinyTensor {
  std::vector<int32_t> shape;
  int8_t type = 3;  // tflite::TensorType: 0 float32, 2 int32, 3 uint8, 4 int64, 9 int8, 8 complex64
  uint32_t buffer = 0;
  std::string name;
  std::vector<float> scale;
  std::vector<int64_t> zero_point;
};

struct TinyModel {
  uint32_t version = 3;
  std::vector<TinyTensor> tensors;
  std::vector<std::vector<uint8_t>> buffers;  // buffers[0] should stay empty
  int32_t builtin_code = 3;                   // tflite::BuiltinOperator (3 = CONV_2D)
  uint32_t opcode_index = 0;
  std::vector<int32_t> op_inputs;
  std::vector<int32_t> op_outputs;
  std::vector<int32_t> inputs;
  std::vector<int32_t> outputs;
  int32_t stride = 1;
};

// input [1,4,4,3] uint8 -> CONV_2D 1x1 (2 filters, int32 bias, RELU6) -> output [1,4,4,2] uint8.
TinyModel tiny_conv_model();
std::vector<uint8_t> build_tflite(const TinyModel& model);

// A graph tensor: no data, quantized per tensor when scale > 0.
Tensor make_tensor(const std::string& name, DataType type, std::vector<int32_t> shape,
                   float scale = 0, int64_t zero_point = 0);

// A segmentation model of `classes` classes that predicts `predicted` everywhere:
// input [1, size, size, 3] uint8 -> CONV_2D 1x1 (zero weights, the bias of `predicted` 1.0,
// RELU6) -> scores [1, size, size, classes] uint8, then with `argmax` ARG_MAX -> int32 labels.
// `class_labels` is stored as the model's labels (Graph::class_labels).
Graph constant_class_graph(int classes, int predicted, bool argmax, int size = 8,
                           const std::string& class_labels = "");

}  // namespace qseg::test

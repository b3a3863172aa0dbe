// FlatBuffer construction of the test models described in tiny_model.h.
#include "tiny_model.h"

#include "tflite/schema_generated.h"

namespace qseg::test {

TinyModel tiny_conv_model() {
  TinyModel m;
  m.buffers = {{}, {}, {}, {}, {}};
  m.tensors = {
      {{1, 4, 4, 3}, 3, 1, "input", {1.0f / 128}, {128}},
      {{2, 1, 1, 3}, 3, 2, "weights", {0.01f}, {120}},
      {{2}, 2, 3, "bias", {1.0f / 128 * 0.01f}, {0}},
      {{1, 4, 4, 2}, 3, 4, "output", {6.0f / 255}, {0}},
  };
  m.buffers[2] = {100, 130, 140, 125, 110, 255};
  m.buffers[3] = {0, 1, 0, 0, 0xff, 0xff, 0xff, 0xff};  // int32 {256, -1}
  m.op_inputs = {0, 1, 2};
  m.op_outputs = {3};
  m.inputs = {0};
  m.outputs = {3};
  return m;
}

std::vector<uint8_t> build_tflite(const TinyModel& m) {
  flatbuffers::FlatBufferBuilder b;
  std::vector<flatbuffers::Offset<tflite::Buffer>> buffers;
  for (const auto& data : m.buffers)
    buffers.push_back(tflite::CreateBuffer(b, data.empty() ? 0 : b.CreateVector(data)));
  std::vector<flatbuffers::Offset<tflite::Tensor>> tensors;
  for (const auto& t : m.tensors) {
    flatbuffers::Offset<tflite::QuantizationParameters> q = 0;
    if (!t.scale.empty())
      q = tflite::CreateQuantizationParameters(b, 0, 0, b.CreateVector(t.scale),
                                               b.CreateVector(t.zero_point));
    tensors.push_back(tflite::CreateTensor(b, b.CreateVector(t.shape),
                                           static_cast<tflite::TensorType>(t.type), t.buffer,
                                           b.CreateString(t.name), q));
  }
  auto options = tflite::CreateConv2DOptions(b, tflite::Padding::SAME, m.stride, m.stride,
                                             tflite::ActivationFunctionType::RELU6);
  const bool conv = m.builtin_code == static_cast<int32_t>(tflite::BuiltinOperator::CONV_2D);
  auto op = tflite::CreateOperator(
      b, m.opcode_index, b.CreateVector(m.op_inputs), b.CreateVector(m.op_outputs),
      conv ? tflite::BuiltinOptions::Conv2DOptions : tflite::BuiltinOptions::NONE,
      conv ? options.Union() : 0);
  const auto code = static_cast<tflite::BuiltinOperator>(m.builtin_code);
  auto opcode = tflite::CreateOperatorCode(
      b, static_cast<int8_t>(m.builtin_code < 127 ? m.builtin_code : 127), 0, 1, code);
  auto subgraph =
      tflite::CreateSubGraph(b, b.CreateVector(tensors), b.CreateVector(m.inputs),
                             b.CreateVector(m.outputs), b.CreateVector(std::vector{op}));
  auto model = tflite::CreateModel(b, m.version, b.CreateVector(std::vector{opcode}),
                                   b.CreateVector(std::vector{subgraph}),
                                   b.CreateString("qseg test"), b.CreateVector(buffers));
  tflite::FinishModelBuffer(b, model);
  return {b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize()};
}

}  // namespace qseg::test

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

Tensor make_tensor(const std::string& name, DataType type, std::vector<int32_t> shape, float scale,
                   int64_t zero_point) {
  Tensor t;
  t.name = name;
  t.type = type;
  t.shape = std::move(shape);
  if (scale > 0) {
    t.quant.scale = {scale};
    t.quant.zero_point = {zero_point};
  }
  return t;
}

Graph constant_class_graph(int classes, int predicted, bool argmax, int size,
                           const std::string& class_labels) {
  Graph g;
  g.description = "qseg test: constant class";
  g.class_labels = class_labels;
  auto add = [&](Tensor t) {
    g.tensors.push_back(std::move(t));
    return static_cast<int32_t>(g.tensors.size() - 1);
  };
  Tensor input = make_tensor("input", DataType::kUInt8, {1, size, size, 3}, 1.0f / 128, 128);
  Tensor weights = make_tensor("weights", DataType::kUInt8, {classes, 1, 1, 3}, 0.01f, 128);
  weights.data.assign(static_cast<size_t>(classes) * 3, 128);  // real 0
  weights.is_constant = true;
  Tensor bias = make_tensor("bias", DataType::kInt32, {classes}, 0.01f / 128, 0);
  std::vector<int32_t> bias_values(static_cast<size_t>(classes), 0);
  bias_values[static_cast<size_t>(predicted)] = 12800;  // real 1.0
  bias.data.resize(bias_values.size() * 4);
  for (size_t i = 0; i < bias_values.size(); ++i) {
    for (int b = 0; b < 4; ++b)
      bias.data[i * 4 + b] = static_cast<uint8_t>(static_cast<uint32_t>(bias_values[i]) >> (8 * b));
  }
  bias.is_constant = true;
  Tensor scores = make_tensor("scores", DataType::kUInt8, {1, size, size, classes}, 6.0f / 255);
  const int32_t in = add(input), w = add(weights), b = add(bias), out = add(scores);
  Op conv;
  conv.type = OpType::kConv2d;
  conv.inputs = {in, w, b};
  conv.outputs = {out};
  conv.options = Conv2dOptions{Padding::kSame, 1, 1, 1, 1, Activation::kRelu6};
  g.ops.push_back(conv);
  g.inputs = {in};
  g.outputs = {out};
  if (argmax) {
    Tensor axis = make_tensor("axis", DataType::kInt32, {1});
    axis.data = {3, 0, 0, 0};
    axis.is_constant = true;
    Tensor labels = make_tensor("labels", DataType::kInt32, {1, size, size});
    const int32_t a = add(axis), l = add(labels);
    Op arg_max;
    arg_max.type = OpType::kArgMax;
    arg_max.inputs = {out, a};
    arg_max.outputs = {l};
    arg_max.options = ArgMaxOptions{DataType::kInt32};
    g.ops.push_back(arg_max);
    g.outputs = {l};
  }
  return g;
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

// Running a DeepLab .tflite in qseg's runtime to read its logits.
#include "train/support/runtime_logits.h"

#include <cstring>

#include "imgproc/image_ops.h"
#include "qseg/interpreter.h"
#include "qseg/normalization.h"
#include "quant/quant.h"

namespace qseg::train {
namespace {

// A uint8 or float tensor of the interpreter as real values.
std::vector<float> dequantized(const Interpreter& interpreter, int index) {
  const Tensor& t = interpreter.tensor(index);
  std::vector<float> values(static_cast<size_t>(t.num_elements()));
  const void* data = interpreter.tensor_data(index);
  if (t.type == DataType::kUInt8) {
    const auto zero_point = static_cast<int32_t>(t.quant.zero_point[0]);
    for (size_t i = 0; i < values.size(); ++i) {
      values[i] = quant::dequantize_value(static_cast<const uint8_t*>(data)[i], t.quant.scale[0],
                                          zero_point);
    }
  } else {
    std::memcpy(values.data(), data, values.size() * sizeof(float));
  }
  return values;
}

}  // namespace

Result<RuntimeLogits> run_runtime_logits(const Graph& graph, const ImportedWeights& weights,
                                         const Image& rgb, int num_threads, bool keep_layers) {
  if (rgb.channels != 3 || rgb.empty()) return Status::error("the import check needs an RGB image");
  const int size = weights.input_size;
  const Image input =
      rgb.width == size && rgb.height == size ? rgb : resize_bilinear(rgb, size, size, true);
  InterpreterOptions options;
  options.num_threads = num_threads;
  options.preserve_all_tensors = true;  // the logits are read before the resizes
  auto created = Interpreter::create(graph, options);
  if (!created.is_ok()) return created.status().with_context(weights.source);
  Interpreter& interpreter = *created.value();
  const Tensor& in = interpreter.input_tensor();
  RuntimeLogits out;
  out.input_size = size;
  out.input.resize(input.pixels.size());
  if (weights.quantized) {
    std::memcpy(interpreter.tensor_data(graph.inputs[0]), input.pixels.data(), input.pixels.size());
    const auto zero_point = static_cast<int32_t>(in.quant.zero_point[0]);
    for (size_t i = 0; i < out.input.size(); ++i) {
      out.input[i] = quant::dequantize_value(input.pixels[i], in.quant.scale[0], zero_point);
    }
  } else {
    for (size_t i = 0; i < out.input.size(); ++i) out.input[i] = normalize_pixel(input.pixels[i]);
    std::memcpy(interpreter.tensor_data(graph.inputs[0]), out.input.data(),
                out.input.size() * sizeof(float));
  }
  interpreter.invoke();
  if (keep_layers) {
    for (const auto& [name, layer] : weights.layers) {
      const Op& op = graph.ops[layer.op_index];
      RuntimeLogits::LayerTensors& kept = out.layers[name];
      kept.input_shape = graph.tensors[op.inputs[0]].shape;
      kept.output_shape = graph.tensors[op.outputs[0]].shape;
      kept.input = dequantized(interpreter, op.inputs[0]);
      kept.output = dequantized(interpreter, op.outputs[0]);
      const Tensor& t = graph.tensors[op.outputs[0]];
      kept.output_step = t.type == DataType::kUInt8 ? t.quant.scale[0] : 0.0f;
    }
  }
  const Tensor& logits = graph.tensors[weights.logits_tensor];
  if (logits.shape.size() != 4)
    return Status::error(weights.source + ": logits are not [1, h, w, classes]");
  out.height = logits.shape[1];
  out.width = logits.shape[2];
  out.classes = logits.shape[3];
  const size_t count = static_cast<size_t>(out.height) * out.width * out.classes;
  out.logits.resize(count);
  const void* raw = interpreter.tensor_data(weights.logits_tensor);
  if (logits.type == DataType::kUInt8) {
    out.logits_scale = logits.quant.scale[0];
    const auto zero_point = static_cast<int32_t>(logits.quant.zero_point[0]);
    for (size_t i = 0; i < count; ++i) {
      out.logits[i] = quant::dequantize_value(static_cast<const uint8_t*>(raw)[i], out.logits_scale,
                                              zero_point);
    }
  } else if (logits.type == DataType::kFloat32) {
    std::memcpy(out.logits.data(), raw, count * sizeof(float));
  } else {
    return Status::error(weights.source + ": logits must be float32 or uint8");
  }
  return out;
}

}  // namespace qseg::train

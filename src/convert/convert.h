// Export and conversion of a trained DeepLab (issue 5): a training checkpoint becomes the frozen
// inference graph in qseg's IR (batch norm folded into the convolutions, ReLU/ReLU6 fused, the
// activation ranges of quantization-aware training attached), and that graph becomes the graph
// tflite_convert writes: uint8 per-tensor (or int8 per-channel) weights on the ranges training
// simulated, int32 biases, QUANTIZE where a concat input's range differs, the final
// RESIZE_BILINEAR to the input size and ARG_MAX. The .tflite writer (src/tflite) serializes it.
// No libtorch and no FlatBuffers here: the checkpoint file and the model config are plain data.
//
// Usage:
//   QSEG_ASSIGN_OR_RETURN(model::CheckpointFile ckpt, model::read_checkpoint_file(path));
//   QSEG_ASSIGN_OR_RETURN(FrozenGraph frozen, export_checkpoint(ckpt, path.string(), {}));
//   ConvertOptions options;                       // uint8, input uint8 mean 128 std 128, ArgMax
//   QSEG_ASSIGN_OR_RETURN(Graph model, convert_graph(frozen, options));
//   QSEG_RETURN_IF_ERROR(write_tflite_file(model, "model.tflite"));
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/checkpoint_file.h"
#include "qseg/graph.h"
#include "qseg/status.h"
#include "quant/quant.h"

namespace qseg::convert {

struct ExportOptions {
  int input_height = 0;   // 0: the checkpoint's model config
  int input_width = 0;    // 0: the checkpoint's model config
  int output_stride = 0;  // 0: the checkpoint's
};

// Float graph, one entry of `ranges` per tensor: the [min, max] of the activation as training
// tracked it (or calibration measured it), absent for constants and unknown ranges.
struct FrozenGraph {
  Graph graph;
  std::vector<std::optional<quant::FloatRange>> ranges;
  // Quantization a layer's weights already had (an imported uint8 file, untrained since), by
  // weight tensor index: the converter reuses it so a round trip keeps the file's codes.
  std::vector<std::optional<std::pair<float, int32_t>>> weight_quantization;
  int input_height = 0, input_width = 0;
  int num_classes = 0;
  // The checkpoint range ("<scope>/range") each activation's range is read from, by tensor index:
  // "aspp0/act_quant", "expanded_conv_1/add_quant", ... (export_checkpoint only), so ranges
  // measured on the graph (calibration) can be given back to the model in training.
  std::map<int, std::string> range_scopes;
  bool has_all_ranges() const;
};

// The frozen inference graph of a checkpoint: input float32 [1, H, W, 3] in [-1, 1] (named
// "MobilenetV2/MobilenetV2/input"), convolutions with folded batch norm and fused activation,
// residual ADDs, the image-pooling branch as AVERAGE_POOL_2D + CONV_2D + RESIZE_BILINEAR,
// the separable atrous branches, CONCATENATION, the projection, the DeepLabV3+ decoder (the
// projection resized to the low-level feature, feature_projection0, CONCATENATION, two separable
// convolutions) and the logits (float32 [1, h, w, classes] at the output or decoder stride,
// named "logits"). Shapes (SAME padding, the whole-map pool, the resize sizes) follow TF DeepLab
// for any H and W. Tensors are named after the published graph's scopes ("<layer>/weights",
// "<layer>/biases", "<layer>/output"), so `qseg import` reads the result back.
Result<FrozenGraph> export_checkpoint(const model::CheckpointFile& checkpoint,
                                      const std::string& name, const ExportOptions& options);

// The frozen graph as a plain float Graph, each range as its tensor's min/max (TFLite's
// QuantizationParameters min/max, which TFLite ignores on float tensors), for `qseg export`; and
// back. graph_to_frozen takes any float DeepLab-like graph: input float32 [1, H, W, 3], output
// float32 scores [1, h, w, classes].
Result<Graph> frozen_to_graph(const FrozenGraph& frozen);
Result<FrozenGraph> graph_to_frozen(Graph graph, const std::string& name);

enum class InferenceType { kUint8, kFloat, kInt8PerChannel };
enum class OutputArray { kArgMax, kLogits };

struct ConvertOptions {
  InferenceType inference_type = InferenceType::kUint8;
  // The model input: uint8 pixels (with mean/std giving the real value (q - mean) / std) or
  // float32 already normalized. A float input to a quantized model gets a QUANTIZE op; a uint8
  // input to a float model a DEQUANTIZE op.
  bool uint8_input = true;
  float mean = 128.0f;
  float std = 128.0f;
  // Concat inputs take the concat's range at their producer (no QUANTIZE ops), as
  // tflite_convert's --change_concat_input_ranges.
  bool change_concat_input_ranges = false;
  // ArgMax: RESIZE_BILINEAR to the input size (corners aligned) and ARG_MAX (int64) like the
  // published files. Logits: the logits resized to the input size, in the inference type.
  OutputArray output = OutputArray::kArgMax;
};

// The deployable graph. Quantized types need every activation range (quantization-aware training
// or calibration); errors name the tensor without one.
Result<Graph> convert_graph(const FrozenGraph& frozen, const ConvertOptions& options);

}  // namespace qseg::convert

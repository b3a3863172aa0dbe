// Weights of a published DeepLab .tflite (float or uint8) as plain float arrays per layer of the
// graph (named as in model_config.h), in libtorch's layout, with the activation ranges the file
// holds. The libtorch importer (src/train/import.h) builds a model from this.
//
// Usage:
//   QSEG_ASSIGN_OR_RETURN(Graph graph, read_tflite_file(path));
//   QSEG_ASSIGN_OR_RETURN(ImportedWeights weights, extract_deeplab_weights(graph, path.string()));
//
// Layers are found by the names of their weight tensors ("MobilenetV2/Conv/weights" in the float
// file, "MobilenetV2/Conv/Conv2D_Fold;..." in the uint8 ones: the scope before the last '/' of
// the first ';'-separated name), so the order of ops in the file does not matter.
//
// Header kept C++17 (it is included by libtorch translation units).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "qseg/graph.h"
#include "qseg/status.h"

namespace qseg::model {

struct ImportedLayer {
  std::string name;
  int op_index = -1;
  bool depthwise = false;
  std::vector<int64_t> weight_shape;  // [out, in / groups, kh, kw]
  std::vector<float> weight;          // dequantized when the file is uint8
  std::vector<float> bias;            // [out]
  // The uint8 file's per-tensor weight quantization (scale, zero point), kept so that converting
  // the untrained import back reproduces the file's weight codes.
  bool weight_quantized = false;
  float weight_scale = 0.0f;
  int32_t weight_zero_point = 0;
  int stride = 1, dilation = 1;
  Activation activation = Activation::kNone;
};

struct ImportedWeights {
  std::string source;
  bool quantized = false;  // uint8 weights and activations
  int input_size = 0;      // the file's input height (== width)
  int output_stride = 0;   // the file's own, from its shapes
  float depth_multiplier = 0;
  int num_classes = 0;
  std::map<std::string, ImportedLayer> layers;  // by layer name
  // Activation ranges of a uint8 file, [min, max] real values of its codes 0 and 255, by scope:
  // "<layer>/act_quant", "<block>/add_quant", "concat_quant".
  std::map<std::string, std::pair<float, float>> ranges;
  int input_tensor = -1;
  int logits_tensor = -1;  // the output of logits/semantic (before any resize or ArgMax)
};

Result<ImportedWeights> extract_deeplab_weights(const Graph& graph, const std::string& name);

// The layer scope a weight tensor's name gives (see above); empty when it has no '/'.
std::string layer_scope_from_tensor_name(const std::string& tensor_name);

}  // namespace qseg::model

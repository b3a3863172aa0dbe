// The other side of the import check: a .tflite run in qseg's runtime on one image, returning
// the real-valued input it saw and its logits before any resize (dequantized for uint8 files),
// so the libtorch import can be compared with it (src/train/import.h).
//
// Header kept C++17 (it is included by libtorch translation units).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "qseg/graph.h"
#include "qseg/image.h"
#include "qseg/status.h"
#include "train/model_names.h"

namespace qseg::train {

struct RuntimeLogits {
  int input_size = 0;
  std::vector<float> input;  // [S, S, 3] real values (dequantized for uint8 inputs)
  int height = 0, width = 0, classes = 0;
  std::vector<float> logits;  // [h, w, classes], dequantized
  float logits_scale = 0;     // the quantization step of uint8 logits, 0 for float files
  // With keep_layers, by layer name: every convolution's input and output [h, w, c]
  // (dequantized) with their shapes, and the output's quantization step (0 for float files).
  struct LayerTensors {
    std::vector<int32_t> input_shape, output_shape;
    std::vector<float> input, output;
    float output_step = 0;
  };
  std::map<std::string, LayerTensors> layers;
};

// `rgb` is resized to the input size (bilinear, corners aligned) when it is not that size.
Result<RuntimeLogits> run_runtime_logits(const Graph& graph, const ImportedWeights& weights,
                                         const Image& rgb, int num_threads,
                                         bool keep_layers = false);

}  // namespace qseg::train

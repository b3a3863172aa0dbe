// Import of a published DeepLab .tflite (float or uint8) into a libtorch model in folded form
// (conv + bias; uint8 weights and int32 biases dequantized), keeping the file's activation
// ranges, at any output stride and input size (the weights do not depend on either). And the
// check that the import is right: the imported model in libtorch against the file in qseg's
// runtime, on the same input, at the file's own input size and output stride.
#pragma once

#include "qseg/graph.h"
#include "qseg/image.h"
#include "qseg/status.h"
#include "train/import_tflite.h"
#include "train/model.h"
#include "train/model_names.h"

namespace qseg::train {

// The folded model of `weights` at the given output stride and input size (0: the file's own).
Result<DeepLabModel> build_imported_model(const ImportedWeights& weights, int output_stride,
                                          int input_size);

// Runs both on `rgb` (3 channels, any size: resized to the input size first). For a uint8 file
// libtorch sees the dequantized input and simulates quantization with the file's ranges and its
// weights as they are.
Result<ImportCheck> check_import(const Graph& graph, const ImportedWeights& weights,
                                 const Image& rgb, int num_threads);

}  // namespace qseg::train

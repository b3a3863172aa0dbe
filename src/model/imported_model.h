// A DeepLab .tflite's weights (model/tflite_weights.h) as a checkpoint of the folded model, in
// memory: what `qseg import` writes and `qseg convert --tflite` converts, without libtorch.
//
// Usage:
//   QSEG_ASSIGN_OR_RETURN(ImportedWeights weights, extract_deeplab_weights(graph, name));
//   QSEG_ASSIGN_OR_RETURN(CheckpointFile ckpt, imported_checkpoint(weights, 16, 513));
//
// Header kept C++17 (it is included by libtorch translation units).
#pragma once

#include "model/checkpoint_file.h"
#include "model/model_config.h"
#include "model/tflite_weights.h"

namespace qseg::model {

// The folded config of `weights` at the given output stride and input size (0: the file's own;
// the weights depend on neither).
DeepLabConfig imported_config(const ImportedWeights& weights, int output_stride, int input_size);

// The checkpoint of the folded model: every layer's weights ([out, in / groups, kh, kw]) and
// bias, the file's activation ranges ("<scope>/range"), and for a uint8 file each layer's weight
// quantization ("<layer>/weights_quantization": scale, zero point) so that converting the
// untrained import reproduces the file's weight codes. meta: format, model, quantized, origin.
// Errors name the file: a layer missing or of another shape, a layer too many.
Result<CheckpointFile> imported_checkpoint(const ImportedWeights& weights, int output_stride,
                                           int input_size);

}  // namespace qseg::model

// The model layer's names (src/model: architecture, checkpoint file, .tflite weights) as the
// training code uses them, unqualified, inside qseg::train.
//
// Header kept C++17 (it is included by libtorch translation units).
#pragma once

#include "model/checkpoint_file.h"
#include "model/model_config.h"
#include "model/tflite_weights.h"

namespace qseg::train {

using model::BlockSpec;
using model::CheckpointFile;
using model::CheckpointTensor;
using model::config_from_json;
using model::config_to_json;
using model::decode_checkpoint;
using model::deeplab_spec;
using model::DeepLabConfig;
using model::DeepLabSpec;
using model::encode_checkpoint;
using model::extract_deeplab_weights;
using model::fnv1a;
using model::ImportedLayer;
using model::ImportedWeights;
using model::kFnv1aStart;
using model::kLogitsScope;
using model::layer_scope_from_tensor_name;
using model::LayerKind;
using model::LayerSpec;
using model::make_divisible;
using model::range_name;
using model::read_checkpoint_file;
using model::replace_file_durably;
using model::same_padding;
using model::SamePadding;
using model::SeparableSpec;
using model::weight_name;
using model::weight_shape;
using model::write_checkpoint_file;

}  // namespace qseg::train

// `qseg import`: a published DeepLab .tflite (float or uint8) -> a checkpoint of the folded model
// at the output stride and input size asked for, keeping the file's activation ranges, checked
// against qseg's runtime at the file's own size and stride. No libtorch types here (the command
// line includes it); src/train/import.h has the libtorch side.
#pragma once

#include <filesystem>
#include <string>

#include "qseg/limits.h"
#include "qseg/status.h"

namespace qseg::train {

struct ImportOptions {
  std::filesystem::path tflite;
  std::filesystem::path out;  // the checkpoint to write
  int output_stride = 16;
  int input_size = 513;
  bool check = true;                  // compare with the runtime (see ImportCheck)
  std::filesystem::path check_image;  // the photo for the check; empty: a generated one
  int num_threads = 1;
  ModelLimits model_limits;  // for reading the .tflite
  ImageLimits image_limits;  // for reading check_image
};

// The comparison of the imported model (libtorch) with the file (qseg's runtime) on one image.
struct ImportCheck {
  bool quantized = false;
  int input_size = 0;
  int output_stride = 0;
  int64_t logits_values = 0;
  // Logits before any resize: libtorch (with simulated quantization for a uint8 file) against
  // the runtime's (dequantized) logits.
  double logits_relative_l2 = 0;  // ||a - b|| / ||b||
  double logits_max_abs_diff = 0;
  double logits_scale = 0;            // the logits' quantization step (uint8 files)
  double logits_within_one_step = 0;  // fraction of values within one step (uint8 files)
  // Class ids at the input size (logits resized with corners aligned, ArgMax) that agree.
  double label_agreement = 0;
  // Each convolution alone, fed the runtime's own input of it: the worst layer's fraction of
  // outputs within one quantization step and on the same code (uint8), or its relative L2 error
  // (float). Whole-model differences grow from these one-step rounding differences.
  double worst_layer_within_one_step = 1;
  double worst_layer_exact = 1;
  double worst_layer_relative_l2 = 0;
  std::string worst_layer;
};

struct ImportReport {
  bool quantized = false;
  float depth_multiplier = 0;
  int num_classes = 0;
  int source_input_size = 0, source_output_stride = 0;
  int layers = 0;
  int ranges = 0;  // activation ranges kept (uint8 files)
  bool checked = false;
  ImportCheck check;
};

Result<ImportReport> import_tflite(const ImportOptions& options);

}  // namespace qseg::train

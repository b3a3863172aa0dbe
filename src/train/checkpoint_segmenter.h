// A checkpoint as a segmenter: photo in, class ids out, with the Segmenter's pre- and
// post-processing (support/segment_steps.h), in float or with simulated quantization (fake
// quantization on the checkpoint's activation ranges, weights on their narrow-range grids,
// batch norm folded), in libtorch. No libtorch types here: `qseg eval --checkpoint` and
// `qseg train --eval-data` use it.
//
// Usage:
//   QSEG_ASSIGN_OR_RETURN(auto segmenter, CheckpointSegmenter::load("run/checkpoint.ckpt", {}));
//   QSEG_ASSIGN_OR_RETURN(Image labels, segmenter->segment(photo));
#pragma once

#include <filesystem>
#include <memory>
#include <vector>

#include "qseg/image.h"
#include "qseg/status.h"
#include "train/support/segment_steps.h"

namespace qseg::train {

enum class CheckpointPrecision {
  kAuto,       // simulated quantization when the checkpoint is quantized (QAT or uint8 import)
  kFloat,      // float, whatever the checkpoint
  kSimulated,  // simulated quantization (the checkpoint must have every activation range)
};

// How the logits become class ids at the photo's size.
enum class CheckpointOutput {
  // As a converted model that ends in ARG_MAX: logits upsampled to the input size (bilinear,
  // corners aligned), ArgMax, then the labels cropped and resized (nearest) to the photo.
  kLabels,
  // As a model that outputs scores: bilinear straight at each photo pixel, then ArgMax.
  kScores,
};

struct CheckpointSegmenterOptions {
  int num_threads = 1;
  int input_size = 0;  // square input of this side; 0: the checkpoint's (its config's H x W)
  CheckpointPrecision precision = CheckpointPrecision::kAuto;
  CheckpointOutput output = CheckpointOutput::kLabels;
  // DeepLab's multi-scale and left-right flipped evaluation (float only): the padded input is
  // resized by each scale to (size - 1) * scale + 1 (bilinear, corners aligned), and also flipped
  // when `flip`; each view's logits are brought back to the input size (bilinear, corners
  // aligned; flipped back), and their softmax probabilities averaged; then the output as above.
  // Empty: the one scale 1.
  std::vector<double> scales;
  bool flip = false;
};

// DeepLab's scale_dimension: the side a scaled input of `side` pixels gets.
int scaled_side(int side, double scale);
// Checks `scales` (each in [0.25, 4], a scaled side of at least 17 pixels for `side`, none twice).
Status check_eval_scales(const std::vector<double>& scales, int side);

class CheckpointSegmenter {
 public:
  static Result<std::unique_ptr<CheckpointSegmenter>> load(
      const std::filesystem::path& path, const CheckpointSegmenterOptions& options = {});
  ~CheckpointSegmenter();

  Result<Image> segment(const Image& rgb);
  int input_width() const;
  int input_height() const;
  bool simulated_quantization() const;
  // More than one view per photo: several scales or flipped.
  bool multi_view() const;

 private:
  struct State;
  explicit CheckpointSegmenter(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// Scores a checkpoint on samples (see score_segmenter).
Result<SegmentationScores> evaluate_checkpoint(const std::filesystem::path& path,
                                               const std::vector<TrainingSample>& samples,
                                               const CheckpointSegmenterOptions& options,
                                               const std::function<void(int, int)>& progress = {},
                                               const ImageLimits& image_limits = {});

}  // namespace qseg::train

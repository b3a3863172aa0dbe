// The Segmenter's pre- and post-processing for a model run outside qseg's runtime (a libtorch
// checkpoint), so that it is evaluated exactly as the .tflite models are: the photo resized to
// fit the input with its aspect ratio kept (bilinear, corners aligned; photos that fit are not
// resized), normalized (qseg/normalization.h), padded bottom/right with the mean pixel (0): the
// Segmenter's own fill_float_model_input; then
// class ids at the input size cropped to the resized photo and brought back to the photo's size
// (nearest, corners aligned), as for the published models that end in ArgMax.
// And scoring a segmenter on VOC-layout samples with src/eval's confusion matrix.
//
// Header kept C++17 (it is included by libtorch translation units).
#pragma once

#include <functional>
#include <vector>

#include "qseg/image.h"
#include "qseg/status.h"
#include "train/support/data.h"

namespace qseg::train {

struct PreparedInput {
  int width = 0, height = 0;
  int resized_width = 0, resized_height = 0;
  std::vector<float> pixels;  // [height, width, 3]
};
PreparedInput prepare_float_input(const Image& rgb, int width, int height);

// `labels` is 1 channel, input.width x input.height.
Image labels_to_photo(const Image& labels, const PreparedInput& input, int photo_width,
                      int photo_height);
// Class ids at the photo's size from float scores [height, width, classes] covering the input
// (corners aligned): the Segmenter's finish for models that output scores (bilinear at each photo
// pixel, then ArgMax).
Image scores_to_photo(const float* scores, int height, int width, int classes,
                      const PreparedInput& input, int photo_width, int photo_height);

struct SegmentationScores {
  int photos = 0;
  double mean_iou = 0;  // over the classes present in labels or predictions (DeepLab's)
  double pixel_accuracy = 0;
  std::vector<double> class_iou;  // one per class of the model, -1 for an absent class
};
using SegmentFunction = std::function<Result<Image>(const Image& rgb)>;
// Runs `segment` on every sample (in order) and scores it; progress(done, total) after each.
Result<SegmentationScores> score_segmenter(const std::vector<TrainingSample>& samples,
                                           const SegmentFunction& segment,
                                           const std::function<void(int, int)>& progress = {},
                                           const ImageLimits& image_limits = {});

}  // namespace qseg::train

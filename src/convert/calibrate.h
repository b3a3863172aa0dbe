// Post-training quantization's calibration: the frozen float graph runs in qseg's interpreter on
// real photos (prepared as the Segmenter prepares them for a float model) and every activation's
// range is measured, to stand in for the ranges quantization-aware training would have tracked.
//
// Usage:
//   CalibrationOptions options;
//   options.data = {"../shared/coco-voc", "train.txt"};
//   options.images = 100;
//   QSEG_RETURN_IF_ERROR(calibrate(&frozen, options));   // fills frozen.ranges
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "convert/convert.h"
#include "eval/dataset.h"
#include "qseg/interpreter.h"

namespace qseg::convert {

enum class CalibrationMethod {
  kMinMax,      // the smallest and largest value seen over all images
  kPercentile,  // per image the (100 - p)th and pth percentiles, averaged over the images
};

struct CalibrationOptions {
  DatasetSource data;  // VOC layout; only the photos are read
  // Photos to calibrate on instead of `data`'s (all of them, `images` ignored): training's.
  std::vector<std::filesystem::path> photos;
  int images = 100;  // the first K photos of the split
  CalibrationMethod method = CalibrationMethod::kMinMax;
  double percentile = 99.99;
  int num_threads = 1;
  ImageLimits image_limits;                                        // for the photos
  int64_t max_arena_bytes = InterpreterOptions{}.max_arena_bytes;  // for the float interpreter
  std::function<void(int done, int total)> progress;
};

// Replaces every activation range of `frozen` (the input keeps [-1, 1]).
Status calibrate(FrozenGraph* frozen, const CalibrationOptions& options);

}  // namespace qseg::convert

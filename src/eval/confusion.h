// ConfusionMatrix: pixel counts of (true class, predicted class) over the 21 VOC classes, and
// the scores derived from it: per-class IoU, mIoU and pixel accuracy.
//
// Usage:
//   ConfusionMatrix total;
//   for (...) QSEG_RETURN_IF_ERROR(total.add(prediction, labels));  // 255 labels are skipped
//   double miou = total.mean_iou();  // over the classes present in labels or predictions
//
// Counts are int64 sums, so merging per-photo matrices in any order gives the same matrix.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "qseg/image.h"
#include "qseg/status.h"
#include "qseg/voc_classes.h"

namespace qseg {

class ConfusionMatrix {
 public:
  static constexpr int kClasses = kVocClassCount;

  // Counts every pixel whose label is not 255 at (label, prediction). Both images are 1 channel
  // of the same size; labels hold 0..20 or 255, predictions 0..20 (anything else is an error,
  // and the matrix is then left unchanged).
  Status add(const Image& prediction, const Image& labels);
  void add_pixels(int label, int predicted, int64_t count) { counts_[label][predicted] += count; }
  void merge(const ConfusionMatrix& other);

  // Pixels of true class `label` predicted as `predicted`.
  int64_t count(int label, int predicted) const { return counts_[label][predicted]; }
  int64_t label_pixels(int c) const;      // row sum: pixels whose label is c
  int64_t predicted_pixels(int c) const;  // column sum: scored pixels predicted as c
  int64_t total_pixels() const;           // every scored (non-void) pixel
  int64_t correct_pixels() const;         // the diagonal

  // A class is present when it occurs in the labels or in the predictions (of scored pixels).
  bool present(int c) const { return label_pixels(c) + predicted_pixels(c) > 0; }
  int present_class_count() const;
  // TP / (TP + FP + FN); none for an absent class (0 / 0).
  std::optional<double> iou(int c) const;
  // The mean IoU over the present classes, summed in class order; 0 when no pixel was scored.
  // This is DeepLab's (tf.metrics.mean_iou's) convention: absent classes are left out.
  double mean_iou() const;
  // Correct pixels / scored pixels; 0 when none was scored.
  double pixel_accuracy() const;

  bool operator==(const ConfusionMatrix& other) const = default;

 private:
  std::array<std::array<int64_t, kClasses>, kClasses> counts_{};
};

}  // namespace qseg

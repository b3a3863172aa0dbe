// ConfusionMatrix: pixel counts of (true class, predicted class) over a model's classes (1..256,
// 21 for PASCAL VOC), and the scores derived from it: per-class IoU, mIoU and pixel accuracy.
//
// Usage:
//   ConfusionMatrix total(19);  // Cityscapes' train ids; the ignore label stays 255
//   for (...) QSEG_RETURN_IF_ERROR(total.add(prediction, labels));  // 255 labels are skipped
//   double miou = total.mean_iou();  // over the classes present in labels or predictions
//
// Counts are int64 sums, so merging per-photo matrices in any order gives the same matrix.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "qseg/image.h"
#include "qseg/status.h"

namespace qseg {

class ConfusionMatrix {
 public:
  static constexpr int kMaxClasses = 256;
  static constexpr int kNoIgnoreLabel = -1;

  // `class_count` classes (clamped to 1..256) and the label value that is not scored (0..255, or
  // kNoIgnoreLabel). An ignore label below class_count makes that class unscored in the labels
  // (DeepLab's ADE20K convention); it is still counted when predicted on a scored pixel.
  explicit ConfusionMatrix(int class_count = 21, int ignore_label = 255);

  int class_count() const { return classes_; }
  int ignore_label() const { return ignore_label_; }

  // Counts every pixel whose label is not the ignore label at (label, prediction). Both images
  // are 1 channel of the same size; labels hold class ids or the ignore label, predictions class
  // ids (anything else is an error, and the matrix is then left unchanged).
  Status add(const Image& prediction, const Image& labels);
  void add_pixels(int label, int predicted, int64_t count) { at(label, predicted) += count; }
  // Adds another matrix of the same class count.
  void merge(const ConfusionMatrix& other);

  // Pixels of true class `label` predicted as `predicted`.
  int64_t count(int label, int predicted) const {
    return counts_[static_cast<size_t>(label) * classes_ + predicted];
  }
  int64_t label_pixels(int c) const;      // row sum: pixels whose label is c
  int64_t predicted_pixels(int c) const;  // column sum: scored pixels predicted as c
  int64_t total_pixels() const;           // every scored (not ignored) pixel
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
  int64_t& at(int label, int predicted) {
    return counts_[static_cast<size_t>(label) * classes_ + predicted];
  }

  int classes_ = 21;
  int ignore_label_ = 255;
  std::vector<int64_t> counts_;  // classes_ x classes_, row = label
};

}  // namespace qseg

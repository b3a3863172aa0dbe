// The confusion matrix and the scores derived from it.
#include "eval/confusion.h"

#include <algorithm>
#include <cassert>
#include <string>

namespace qseg {

ConfusionMatrix::ConfusionMatrix(int class_count, int ignore_label)
    : classes_(std::clamp(class_count, 1, kMaxClasses)),
      ignore_label_(ignore_label >= 0 && ignore_label <= 255 ? ignore_label : kNoIgnoreLabel),
      counts_(static_cast<size_t>(classes_) * classes_, 0) {}

Status ConfusionMatrix::add(const Image& prediction, const Image& labels) {
  if (prediction.channels != 1 || labels.channels != 1 || prediction.width != labels.width ||
      prediction.height != labels.height || prediction.pixels.size() != labels.pixels.size()) {
    return Status::error(
        "prediction (" + std::to_string(prediction.width) + "x" +
        std::to_string(prediction.height) + "x" + std::to_string(prediction.channels) +
        ") and labels (" + std::to_string(labels.width) + "x" + std::to_string(labels.height) +
        "x" + std::to_string(labels.channels) + ") must be 1-channel images of the same size");
  }
  // Count into a local matrix first so that an error leaves *this unchanged.
  ConfusionMatrix local(classes_, ignore_label_);
  for (size_t i = 0; i < labels.pixels.size(); ++i) {
    const int label = labels.pixels[i];
    if (label == ignore_label_) continue;
    const int predicted = prediction.pixels[i];
    if (label >= classes_)
      return Status::error("label value " + std::to_string(label) + " is not a class id");
    if (predicted >= classes_) {
      return Status::error("predicted class " + std::to_string(predicted) + " is outside 0.." +
                           std::to_string(classes_ - 1));
    }
    ++local.at(label, predicted);
  }
  merge(local);
  return Status::ok();
}

void ConfusionMatrix::merge(const ConfusionMatrix& other) {
  assert(other.classes_ == classes_);
  const size_t n = std::min(counts_.size(), other.counts_.size());
  for (size_t i = 0; i < n; ++i) counts_[i] += other.counts_[i];
}

int64_t ConfusionMatrix::label_pixels(int c) const {
  int64_t sum = 0;
  for (int p = 0; p < classes_; ++p) sum += count(c, p);
  return sum;
}

int64_t ConfusionMatrix::predicted_pixels(int c) const {
  int64_t sum = 0;
  for (int l = 0; l < classes_; ++l) sum += count(l, c);
  return sum;
}

int64_t ConfusionMatrix::total_pixels() const {
  int64_t sum = 0;
  for (const int64_t n : counts_) sum += n;
  return sum;
}

int64_t ConfusionMatrix::correct_pixels() const {
  int64_t sum = 0;
  for (int c = 0; c < classes_; ++c) sum += count(c, c);
  return sum;
}

int ConfusionMatrix::present_class_count() const {
  int n = 0;
  for (int c = 0; c < classes_; ++c) n += present(c) ? 1 : 0;
  return n;
}

std::optional<double> ConfusionMatrix::iou(int c) const {
  const int64_t true_positives = count(c, c);
  // TP + FP + FN = (row sum) + (column sum) - TP.
  const int64_t union_pixels = label_pixels(c) + predicted_pixels(c) - true_positives;
  if (union_pixels == 0) return std::nullopt;
  return static_cast<double>(true_positives) / static_cast<double>(union_pixels);
}

double ConfusionMatrix::mean_iou() const {
  double sum = 0;
  int n = 0;
  for (int c = 0; c < classes_; ++c) {
    if (const auto value = iou(c)) {
      sum += *value;
      ++n;
    }
  }
  return n > 0 ? sum / n : 0.0;
}

double ConfusionMatrix::pixel_accuracy() const {
  const int64_t total = total_pixels();
  return total > 0 ? static_cast<double>(correct_pixels()) / static_cast<double>(total) : 0.0;
}

}  // namespace qseg

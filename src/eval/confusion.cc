// The confusion matrix and the scores derived from it.
#include "eval/confusion.h"

#include <string>

namespace qseg {

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
  ConfusionMatrix local;
  for (size_t i = 0; i < labels.pixels.size(); ++i) {
    const uint8_t label = labels.pixels[i];
    if (label == kVocIgnoreLabel) continue;
    const uint8_t predicted = prediction.pixels[i];
    if (label >= kClasses)
      return Status::error("label value " + std::to_string(label) + " is not a class id");
    if (predicted >= kClasses) {
      return Status::error("predicted class " + std::to_string(predicted) + " is outside 0.." +
                           std::to_string(kClasses - 1));
    }
    ++local.counts_[label][predicted];
  }
  merge(local);
  return Status::ok();
}

void ConfusionMatrix::merge(const ConfusionMatrix& other) {
  for (int l = 0; l < kClasses; ++l) {
    for (int p = 0; p < kClasses; ++p) counts_[l][p] += other.counts_[l][p];
  }
}

int64_t ConfusionMatrix::label_pixels(int c) const {
  int64_t sum = 0;
  for (int p = 0; p < kClasses; ++p) sum += counts_[c][p];
  return sum;
}

int64_t ConfusionMatrix::predicted_pixels(int c) const {
  int64_t sum = 0;
  for (int l = 0; l < kClasses; ++l) sum += counts_[l][c];
  return sum;
}

int64_t ConfusionMatrix::total_pixels() const {
  int64_t sum = 0;
  for (int l = 0; l < kClasses; ++l) sum += label_pixels(l);
  return sum;
}

int64_t ConfusionMatrix::correct_pixels() const {
  int64_t sum = 0;
  for (int c = 0; c < kClasses; ++c) sum += counts_[c][c];
  return sum;
}

int ConfusionMatrix::present_class_count() const {
  int n = 0;
  for (int c = 0; c < kClasses; ++c) n += present(c) ? 1 : 0;
  return n;
}

std::optional<double> ConfusionMatrix::iou(int c) const {
  const int64_t true_positives = counts_[c][c];
  // TP + FP + FN = (row sum) + (column sum) - TP.
  const int64_t union_pixels = label_pixels(c) + predicted_pixels(c) - true_positives;
  if (union_pixels == 0) return std::nullopt;
  return static_cast<double>(true_positives) / static_cast<double>(union_pixels);
}

double ConfusionMatrix::mean_iou() const {
  double sum = 0;
  int n = 0;
  for (int c = 0; c < kClasses; ++c) {
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

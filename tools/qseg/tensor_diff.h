// What two copies of a tensor have in common (`qseg diff`): equal values, values within one
// quantization step, the largest difference; and for final outputs, per-pixel class agreement with
// float near ties counted apart.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>

#include "qseg/graph.h"

namespace qseg::cli {

struct TensorDiff {
  int64_t elements = 0;
  int64_t equal = 0;
  int64_t within_one = 0;  // quantized and integer tensors: |a - b| <= 1
  double max_steps = 0;    // quantized and integer tensors: max |a - b|
  // Float tensors: max |a - b| relative to the largest magnitude in either tensor (elementwise
  // ratios say nothing near zero, where summation order alone changes the low bits).
  double max_relative = 0;
  bool is_float = false;
  bool identical() const { return equal == elements; }
};

// a and b hold t's bytes (t.byte_size() each).
TensorDiff diff_tensor(const Tensor& t, std::span<const uint8_t> a, std::span<const uint8_t> b);
nlohmann::json diff_json(const TensorDiff& d);

// Per-pixel class agreement of two final outputs: labels compared as they are, per-class scores
// by their ArgMax. For float scores, a pixel where the two sides' classes score within 1e-5 of the
// largest score magnitude in either output is a near tie (float rounding may order them either
// way), counted apart.
inline constexpr double kFloatTolerance = 1e-5;
struct LabelAgreement {
  int64_t pixels = 0, same = 0, near_ties = 0;
  double share() const {
    return pixels ? static_cast<double>(same) / static_cast<double>(pixels) : 1;
  }
};
LabelAgreement label_agreement(const Tensor& t, std::span<const uint8_t> a,
                               std::span<const uint8_t> b);

// The same for labels (int32 or int64, [1, H, W]) inside the top-left rows x cols: where a photo
// lies in the model input, the rest being padding. pixels is 0 for outputs of another kind.
LabelAgreement label_agreement_in_region(const Tensor& t, std::span<const uint8_t> a,
                                         std::span<const uint8_t> b, int rows, int cols);

// The same for a model that ends in ArgMax over float scores (labels: int32 or int64, one per
// pixel; scores: float32, the ArgMax's input, `classes` per pixel): a pixel whose two labels differ
// is a near tie when the two classes score within 1e-5 of the largest score magnitude on either
// side. The labels are the model's own outputs, as users get them.
LabelAgreement label_agreement_with_scores(const Tensor& labels, std::span<const uint8_t> a_labels,
                                           std::span<const uint8_t> b_labels,
                                           std::span<const float> a_scores,
                                           std::span<const float> b_scores, int classes);

}  // namespace qseg::cli

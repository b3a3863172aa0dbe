// HARD_SWISH float reference kernel.
#include "kernels/hard_swish.h"

#include <algorithm>

namespace qseg::kernels::ref {

void hard_swish_float(const ActivationTableParams& p, const float* input, float* output,
                      int64_t begin, int64_t end) {
  if (p.requantization == Requantization::kXnnpack) {
    // XNNPACK: min(max(x + 3, 0), 6) * (x * (1/6)).
    constexpr float kSixth = 1.0f / 6.0f;
    for (int64_t i = begin; i < end; ++i) {
      const float x = input[i];
      output[i] = std::min(std::max(x + 3.0f, 0.0f), 6.0f) * (x * kSixth);
    }
    return;
  }
  // TFLite's built-in kernel: x * min(6, max(0, x + 3)) / 6.
  for (int64_t i = begin; i < end; ++i) {
    const float x = input[i];
    output[i] = x * std::min(6.0f, std::max(0.0f, x + 3.0f)) / 6.0f;
  }
}

}  // namespace qseg::kernels::ref

// LOGISTIC float reference kernel: XNNPACK's evaluation (kXnnpack) or 1 / (1 + expf(-x)).
#include "kernels/logistic.h"

#include <bit>
#include <cmath>
#include <cstdint>

namespace qseg::kernels::ref {

namespace {

// XNNPACK's float sigmoid (its "rr2_p5_div" evaluation, the one its WebAssembly build runs), step
// by step in float without fused multiply-adds: e = exp(-|x|) from a range reduction by ln 2 in
// two parts and a degree-5 polynomial, f = e / (1 + e), 0 where exp(-|x|) is not normal, and
// 1 - f for x > 0.
float xnnpack_sigmoid(float x) {
  constexpr float kMagicBias = 0x1.8000FEp23f;
  constexpr float kMinusLog2e = -0x1.715476p+0f;
  constexpr float kLn2Hi = 0x1.62E400p-1f;
  constexpr float kLn2Lo = 0x1.7F7D1Cp-20f;
  constexpr float kC5 = -0x1.0F9F9Cp-7f;
  constexpr float kC4 = 0x1.573A1Ap-5f;
  constexpr float kC3 = -0x1.555A80p-3f;
  constexpr float kC2 = 0x1.FFFDC6p-2f;
  constexpr float kC1 = -0x1.FFFFF6p-1f;
  constexpr float kDenormCutoff = 0x1.5D589Ep+6f;
  const float z = std::fabs(x);
  float n = z * kMinusLog2e + kMagicBias;
  // 2^n from the low bits of the biased n.
  const float s = std::bit_cast<float>(std::bit_cast<uint32_t>(n) << 23);
  n -= kMagicBias;
  float t = n * kLn2Hi + z;
  t = n * kLn2Lo + t;
  float p = t * kC5 + kC4;
  p = t * p + kC3;
  p = t * p + kC2;
  p = t * p + kC1;
  t *= s;
  const float e = t * p + s;
  float f = e / (e + 1.0f);
  if (z > kDenormCutoff) f = 0.0f;
  return std::signbit(x) ? f : 1.0f - f;
}

}  // namespace

void logistic_float(const ActivationTableParams& p, const float* input, float* output,
                    int64_t begin, int64_t end) {
  if (p.requantization == Requantization::kXnnpack) {
    for (int64_t i = begin; i < end; ++i) output[i] = xnnpack_sigmoid(input[i]);
    return;
  }
  for (int64_t i = begin; i < end; ++i) output[i] = 1.0f / (1.0f + std::exp(-input[i]));
}

}  // namespace qseg::kernels::ref

// Which of TFLite's two 8-bit arithmetics the kernels follow.
#pragma once

#include <cstdint>
#include <string_view>

namespace qseg {

// How 8-bit kernels turn int32 accumulators back into 8 bits. TFLite has two arithmetics:
// - kXnnpack, the default: what TFLite runs on a CPU by default, through its XNNPACK delegate
//   (and what produced the published golden outputs): convolutions scale in float32 and round
//   half to even, 8-bit QUANTIZE converts with an 8-fractional-bit multiplier, ADD uses XNNPACK's
//   single-multiplier arithmetic.
// - kFixedPoint: TFLite's built-in kernels, as TFLite runs without XNNPACK and as TFLite Micro
//   does: 31-bit fixed-point multipliers with double rounding.
// The two differ by one step on a small fraction of values of CONV_2D, DEPTHWISE_CONV_2D, ADD and
// 8-bit to 8-bit QUANTIZE; the other ops compute the same in both.
enum class Requantization : uint8_t { kFixedPoint, kXnnpack };

// "xnnpack" or "fixed-point".
inline std::string_view requantization_name(Requantization r) {
  return r == Requantization::kXnnpack ? "xnnpack" : "fixed-point";
}

// Parses "xnnpack" (also "float", its earlier name) or "fixed-point"; false for anything else.
inline bool parse_requantization(std::string_view name, Requantization* r) {
  if (name == "xnnpack" || name == "float") {
    *r = Requantization::kXnnpack;
    return true;
  }
  if (name == "fixed-point") {
    *r = Requantization::kFixedPoint;
    return true;
  }
  return false;
}

}  // namespace qseg

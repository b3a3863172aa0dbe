// Which of TFLite's two 8-bit arithmetics the kernels follow.
#pragma once

#include <cstdint>

namespace qseg {

// How 8-bit kernels turn int32 accumulators back into 8 bits. TFLite has two arithmetics, and
// both are "TFLite": its built-in kernels use a 31-bit fixed-point multiplier with double
// rounding (kFixedPoint, qseg's reference), while its default XNNPACK delegate, which produced
// the published golden outputs, scales in float32 and rounds half to even (kFloat). They differ
// by one step on a small fraction of values. Only CONV_2D, DEPTHWISE_CONV_2D and 8-bit to 8-bit
// QUANTIZE differ; the other ops compute the same in both.
enum class Requantization : uint8_t { kFixedPoint, kFloat };

}  // namespace qseg

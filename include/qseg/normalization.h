// The float input normalization of qseg's inference paths: the Segmenter, checkpoint evaluation,
// calibration and the import check all map a pixel value v to (v - mean) * (1 / std), so a float
// model sees the same floats whichever tool feeds it. (v - 127.5) / 127.5 differs from it in the
// last bit on 126 of the 256 values. (The training loader's augmentation normalizes its crops as
// v * (2 / 255) - 1, as before.)
//
// Header kept C++17 (libtorch translation units include it).
#pragma once

#include <cstdint>

namespace qseg {

// DeepLab's convention: [0, 255] to [-1, 1]; the mean pixel (the padding) becomes 0.
inline constexpr float kDefaultInputMean = 127.5f;
inline constexpr float kDefaultInputStd = 127.5f;

inline float normalize_pixel(uint8_t v, float mean = kDefaultInputMean,
                             float inverse_std = 1.0f / kDefaultInputStd) {
  return (static_cast<float>(v) - mean) * inverse_std;
}

}  // namespace qseg

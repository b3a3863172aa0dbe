// The converter's quantization of constants: uint8 and int8 weights, int32 biases.
// Per-tensor uint8 and per-channel int8 weights; the rounding of each is stated where it is
// declared.
#pragma once

#include <cstdint>
#include <vector>

#include "quant/quant.h"

namespace qseg::quant {

// uint8 weights with one scale and zero point for the whole tensor.
struct Uint8Weights {
  std::vector<uint8_t> codes;
  float scale = 1.0f;
  int32_t zero_point = 0;
};

// The weights on the narrow-range 8-bit grid of their own [min, max] (fake_quant_grid(min, max,
// 8, narrow_range = true)), the grid quantization-aware training rounded them to: each value is
// clamped into the grid's range and rounded as FakeQuantWithMinMaxVars rounds it (fake_quant_steps:
// half up), so a trained weight keeps exactly the code training simulated.
Uint8Weights quantize_weights_uint8(const float* weights, int64_t count);

// The weights on a given scale and zero point (an imported uint8 file, untrained since): code =
// lround(w / scale) + zero_point, the division in float, rounded half away from zero (TFLite's
// TfLiteRound is std::round), saturated to [0, 255]. Dequantized weights w = (q - z) * s of such
// a file give q back exactly this way, so a round trip keeps the file's codes.
Uint8Weights quantize_weights_uint8(const float* weights, int64_t count, float scale,
                                    int32_t zero_point);

// One code of each of the two uint8 schemes above.
int32_t uint8_weight_code_on_grid(float weight, const FakeQuantGrid& grid);
int32_t uint8_weight_code(float weight, float scale, int32_t zero_point);

// int8 symmetric per-channel weights (TFLite's int8 scheme): one scale per channel, zero point 0.
struct Int8PerChannelWeights {
  std::vector<int8_t> codes;
  std::vector<float> scales;
};

// Channel c of value i is (i / inner) % channels (the channel dimension followed by `inner`
// values). A channel's scale is max|w| / 127 in float (1 for an all-zero channel: its codes are 0
// whatever the scale, and 1 keeps the kernel's multiplier finite); codes are lround(w / scale),
// rounded half away from zero as TFLite's SymmetricPerChannelQuantizeValues rounds (TfLiteRound,
// std::round), and clamped to [-127, 127] (the narrow int8 range: -128 is never used). TFLite
// multiplies by the float reciprocal of the scale where qseg divides, which can differ in the last
// bit; the division is kept because it decides the bytes of the files qseg has always written.
Int8PerChannelWeights quantize_weights_int8_per_channel(const float* weights, int64_t count,
                                                        int channels, int64_t inner);
float int8_channel_scale(float max_abs);
int32_t int8_weight_code(float weight, float scale);

// A bias's scale: input scale * weight scale, the product in float (TFLite's convolution kernels
// require the bias scale to be this product, to within 1e-6).
inline float bias_scale(float input_scale, float weight_scale) {
  return input_scale * weight_scale;
}

// One int32 bias code: bias / scale in double, rounded to nearest with ties to even
// (std::nearbyint), saturated to int32. A tie needs bias / scale to be exactly k + 1/2 in double,
// which for folded float biases over a product of two float scales does not occur in practice, so
// this agrees with the converter's half-away-from-zero rounding on every model qseg converts; it
// is kept as it is because it decides the bytes of the files qseg has always written.
int32_t quantize_bias_value(float bias, float scale);

// int32 biases of a convolution whose weights have `weight_scales` (one: per tensor, else one per
// output channel): scales holds one scale per tensor or one per channel accordingly.
struct Int32Bias {
  std::vector<int32_t> values;
  std::vector<float> scales;
};
Int32Bias quantize_bias(const float* bias, int64_t count, float input_scale,
                        const std::vector<float>& weight_scales);

}  // namespace qseg::quant

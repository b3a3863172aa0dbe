// Weight and bias quantization for the converter (see weights.h for the rounding of each).
#include "quant/weights.h"

#include <algorithm>
#include <cmath>

namespace qseg::quant {

int32_t uint8_weight_code_on_grid(float weight, const FakeQuantGrid& grid) {
  // The upper end is computed from nudged_min (not nudged_max, which can differ from it in the
  // last bit): that is what the converter has always clamped to.
  const float upper = static_cast<float>(grid.qmax - grid.qmin) * grid.scale + grid.nudged_min;
  const float clamped = std::clamp(weight, grid.nudged_min, upper);
  const auto steps =
      static_cast<int32_t>(fake_quant_steps(clamped, grid.nudged_min, 1.0f / grid.scale));
  return std::clamp(steps + grid.qmin, grid.qmin, grid.qmax);
}

int32_t uint8_weight_code(float weight, float scale, int32_t zero_point) {
  return static_cast<int32_t>(
      std::clamp<int64_t>(std::lround(weight / scale) + zero_point, 0, 255));
}

Uint8Weights quantize_weights_uint8(const float* weights, int64_t count) {
  float lo = count > 0 ? weights[0] : 0.0f, hi = lo;
  for (int64_t i = 0; i < count; ++i) {
    lo = std::min(lo, weights[i]);
    hi = std::max(hi, weights[i]);
  }
  const FakeQuantGrid grid = fake_quant_grid(lo, hi, 8, /*narrow_range=*/true);
  Uint8Weights out;
  out.scale = grid.scale;
  out.zero_point = grid.zero_point;
  out.codes.resize(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i)
    out.codes[i] = static_cast<uint8_t>(uint8_weight_code_on_grid(weights[i], grid));
  return out;
}

Uint8Weights quantize_weights_uint8(const float* weights, int64_t count, float scale,
                                    int32_t zero_point) {
  Uint8Weights out;
  out.scale = scale;
  out.zero_point = zero_point;
  out.codes.resize(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i)
    out.codes[i] = static_cast<uint8_t>(uint8_weight_code(weights[i], scale, zero_point));
  return out;
}

float int8_channel_scale(float max_abs) { return max_abs > 0 ? max_abs / 127.0f : 1.0f; }

int32_t int8_weight_code(float weight, float scale) {
  return std::clamp<int32_t>(static_cast<int32_t>(std::lround(weight / scale)), -127, 127);
}

Int8PerChannelWeights quantize_weights_int8_per_channel(const float* weights, int64_t count,
                                                        int channels, int64_t inner) {
  std::vector<float> max_abs(channels, 0.0f);
  for (int64_t i = 0; i < count; ++i) {
    const int c = static_cast<int>((i / inner) % channels);
    max_abs[c] = std::max(max_abs[c], std::fabs(weights[i]));
  }
  Int8PerChannelWeights out;
  for (int c = 0; c < channels; ++c) out.scales.push_back(int8_channel_scale(max_abs[c]));
  out.codes.resize(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    const int c = static_cast<int>((i / inner) % channels);
    out.codes[i] = static_cast<int8_t>(int8_weight_code(weights[i], out.scales[c]));
  }
  return out;
}

int32_t quantize_bias_value(float bias, float scale) {
  const double v = std::nearbyint(static_cast<double>(bias) / scale);
  return static_cast<int32_t>(std::clamp(v, -2147483648.0, 2147483647.0));
}

Int32Bias quantize_bias(const float* bias, int64_t count, float input_scale,
                        const std::vector<float>& weight_scales) {
  const bool per_tensor = weight_scales.size() == 1;
  Int32Bias out;
  out.values.resize(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    const float scale = bias_scale(input_scale, per_tensor ? weight_scales[0] : weight_scales[i]);
    out.values[i] = quantize_bias_value(bias[i], scale);
    if (!per_tensor || i == 0) out.scales.push_back(scale);
  }
  return out;
}

}  // namespace qseg::quant

// The arithmetic of MUL, SUB, MEAN, HARD_SWISH and LOGISTIC (quant/elementwise.h).
#include "quant/elementwise.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace qseg::quant {

MulQuantization mul_quantization(float input1_scale, int32_t input1_zero_point, float input2_scale,
                                 int32_t input2_zero_point, float output_scale,
                                 int32_t output_zero_point) {
  MulQuantization p;
  p.input1_offset = -input1_zero_point;
  p.input2_offset = -input2_zero_point;
  p.output_offset = output_zero_point;
  p.multiplier =
      quantize_multiplier(static_cast<double>(input1_scale) * static_cast<double>(input2_scale) /
                          static_cast<double>(output_scale));
  return p;
}

std::optional<XnnpackMul> xnnpack_mul_params(float input1_scale, int32_t input1_zero_point,
                                             float input2_scale, int32_t input2_zero_point,
                                             float output_scale, int32_t output_zero_point) {
  const float scale = input1_scale * input2_scale / output_scale;
  if (!(scale >= 0x1.0p-16f && scale < 0x1.0p+8f)) return std::nullopt;
  return XnnpackMul{input1_zero_point, input2_zero_point, output_zero_point, scale};
}

std::optional<XnnpackAdd> xnnpack_sub_params(float input1_scale, int32_t input1_zero_point,
                                             float input2_scale, int32_t input2_zero_point,
                                             float output_scale, int32_t output_zero_point) {
  std::optional<XnnpackAdd> p =
      xnnpack_add_params(input1_scale, input1_zero_point, input2_scale, input2_zero_point,
                         output_scale, output_zero_point);
  if (!p) return std::nullopt;
  p->multiplier2 = -p->multiplier2;
  const int64_t bias = (int64_t{1} << (p->shift - 1)) -
                       int64_t{p->multiplier1} * input1_zero_point -
                       int64_t{p->multiplier2} * input2_zero_point;
  if (bias < INT32_MIN || bias > INT32_MAX) return std::nullopt;
  p->bias = static_cast<int32_t>(bias);
  return p;
}

std::optional<XnnpackMean> xnnpack_mean_params(float input_scale, int32_t input_zero_point,
                                               float output_scale, int32_t output_zero_point,
                                               int64_t count) {
  const float ratio = input_scale / output_scale;
  if (!(ratio >= 0x1.0p-8f && ratio < 0x1.0p+8f)) return std::nullopt;
  // The sum of `count` 8-bit values and the bias must fit int32.
  if (count < 1 || count > (int64_t{1} << 23)) return std::nullopt;
  XnnpackMean p;
  p.bias = static_cast<int32_t>(-count * input_zero_point);
  p.scale = input_scale / (output_scale * static_cast<float>(count));
  p.output_zero_point = output_zero_point;
  return p;
}

MeanQuantization mean_quantization(float input_scale, int32_t input_zero_point, float output_scale,
                                   int32_t output_zero_point, int64_t count, DataType type,
                                   bool spatial) {
  using Kind = MeanQuantization::Kind;
  MeanQuantization p;
  p.input_zero_point = input_zero_point;
  p.output_zero_point = output_zero_point;
  p.count = std::max<int64_t>(count, 1);
  if (spatial && type == DataType::kUInt8) {
    p.kind = Kind::kUint8Spatial;
    float offset = static_cast<float>(input_zero_point) * input_scale / output_scale;
    offset = offset > 0 ? offset + 0.5f : offset - 0.5f;
    p.bias = output_zero_point - static_cast<int32_t>(offset);
    p.multiplier = quantize_multiplier(
        static_cast<double>(input_scale / (static_cast<float>(p.count) * output_scale)));
    return p;
  }
  if (spatial) {
    p.kind = Kind::kInt8Spatial;
    p.multiplier =
        quantize_multiplier(static_cast<double>(input_scale) / static_cast<double>(output_scale));
    return p;
  }
  if (input_scale == output_scale && input_zero_point == output_zero_point) {
    p.kind = Kind::kTruncatedAverage;
    return p;
  }
  p.kind = Kind::kRescaled;
  p.scale = input_scale / output_scale;
  p.float_bias = static_cast<float>(-input_zero_point) * p.scale;
  return p;
}

int32_t mean_quantized(int64_t sum, const MeanQuantization& p, QuantizedRange range) {
  auto to_int32 = [](int64_t v) {
    return static_cast<int32_t>(std::clamp<int64_t>(v, std::numeric_limits<int32_t>::min(),
                                                    std::numeric_limits<int32_t>::max()));
  };
  switch (p.kind) {
    case MeanQuantization::Kind::kTruncatedAverage:
      return clamp(to_int32(sum / p.count), range);
    case MeanQuantization::Kind::kUint8Spatial:
      return offset_and_clamp(multiply_by_quantized_multiplier(to_int32(sum), p.multiplier), p.bias,
                              range);
    case MeanQuantization::Kind::kRescaled: {
      const float mean = static_cast<float>(sum) / static_cast<float>(p.count);
      return round_and_clamp(
          std::round(mean * p.scale + p.float_bias) + static_cast<float>(p.output_zero_point),
          range.min, range.max);
    }
    case MeanQuantization::Kind::kInt8Spatial:
      break;
  }
  const int32_t scaled = multiply_by_quantized_multiplier(
      to_int32(sum - int64_t{p.input_zero_point} * p.count), p.multiplier);
  return offset_and_clamp(to_int32(rounding_divide(scaled, p.count)), p.output_zero_point, range);
}

namespace {

// gemmlowp's int16 fixed-point primitives, as TFLite's HardSwish uses them.
int16_t saturate_int16(int32_t v) {
  return static_cast<int16_t>(std::clamp<int32_t>(v, std::numeric_limits<int16_t>::min(),
                                                  std::numeric_limits<int16_t>::max()));
}
// (a * b * 2) / 2^16 rounded to nearest (ties of a negative product toward zero), saturating
// -32768 * -32768.
int16_t rounding_doubling_high_mul_16(int16_t a, int16_t b) {
  if (a == b && a == std::numeric_limits<int16_t>::min())
    return std::numeric_limits<int16_t>::max();
  const int32_t ab = int32_t{a} * int32_t{b};
  const int32_t nudge = ab >= 0 ? (1 << 14) : (1 - (1 << 14));
  return static_cast<int16_t>((ab + nudge) / (1 << 15));
}
// The same without rounding: truncated toward zero.
int16_t doubling_high_mul_16(int16_t a, int16_t b) {
  if (a == b && a == std::numeric_limits<int16_t>::min())
    return std::numeric_limits<int16_t>::max();
  return static_cast<int16_t>(int32_t{a} * int32_t{b} / (1 << 15));
}
int16_t saturating_left_shift_16(int16_t v, int32_t amount) {
  return saturate_int16(int32_t{v} * (int32_t{1} << amount));
}
// A 31-bit multiplier rounded to its top 16 bits (TFLite's DownScaleInt32ToInt16Multiplier).
int16_t to_int16_multiplier(int32_t multiplier) {
  constexpr int32_t kRounding = 1 << 15;
  if (multiplier >= std::numeric_limits<int32_t>::max() - kRounding)
    return std::numeric_limits<int16_t>::max();
  return static_cast<int16_t>((multiplier + kRounding) >> 16);
}

template <typename F>
LookupTable tabulate(int32_t qmin, F f) {
  LookupTable table{};
  for (int32_t i = 0; i < 256; ++i) table[i] = static_cast<uint8_t>(f(qmin + i));
  return table;
}

}  // namespace

LookupTable hard_swish_table(float input_scale, int32_t input_zero_point, float output_scale,
                             int32_t output_zero_point, int32_t qmin) {
  const float hires_input_scale = (1.0f / 128.0f) * input_scale;
  const float reluish_scale = 3.0f / 32768.0f;
  const FixedPointMultiplier output_m = quantize_multiplier(hires_input_scale / output_scale);
  const FixedPointMultiplier reluish_m = quantize_multiplier(hires_input_scale / reluish_scale);
  const int16_t output_multiplier = to_int16_multiplier(output_m.multiplier);
  const int16_t reluish_multiplier = to_int16_multiplier(reluish_m.multiplier);
  // TFLite requires output_m.shift <= 0 (prepare checks it); clamp the exponents into the range
  // RoundingDivideByPOT takes so that no table entry is undefined.
  const int32_t output_right_shift = std::clamp(-output_m.shift, 0, 15);
  const int32_t reluish_shift = std::clamp(reluish_m.shift, -15, 15);
  const int32_t qmax = qmin + 255;
  return tabulate(qmin, [&](int32_t q) {
    const auto input = static_cast<int16_t>(q - input_zero_point);
    const auto hires = static_cast<int16_t>(input * (1 << 7));
    const int16_t preshift_output = rounding_doubling_high_mul_16(hires, output_multiplier);
    int16_t reluish = hires;
    if (reluish_shift > 0) reluish = saturating_left_shift_16(reluish, reluish_shift - 1);
    reluish = rounding_doubling_high_mul_16(reluish, reluish_multiplier);
    if (reluish_shift > 0) reluish = saturating_left_shift_16(reluish, 1);
    if (reluish_shift < 0) {
      reluish = static_cast<int16_t>(rounding_divide_by_pot(reluish, -reluish_shift));
    }
    // [-1, 1] on 2^15 -> [0, 1] on 2^15.
    reluish = static_cast<int16_t>((int32_t{reluish} + (1 << 15)) >> 1);
    const int16_t preshift = doubling_high_mul_16(reluish, preshift_output);
    const int32_t out = rounding_divide_by_pot(preshift, output_right_shift) + output_zero_point;
    return std::clamp(out, qmin, qmax);
  });
}

LookupTable logistic_table(float input_scale, int32_t input_zero_point, float output_scale,
                           int32_t output_zero_point, int32_t qmin) {
  const float inverse_scale = 1.0f / output_scale;
  const int32_t qmax = qmin + 255;
  return tabulate(qmin, [&](int32_t q) {
    const float x = input_scale * static_cast<float>(q - input_zero_point);
    const float y = 1.0f / (1.0f + std::exp(-x));
    return round_and_clamp(std::round(y * inverse_scale) + static_cast<float>(output_zero_point),
                           qmin, qmax);
  });
}

LookupTable xnnpack_logistic_table(float input_scale, int32_t input_zero_point, float output_scale,
                                   int32_t output_zero_point, int32_t qmin) {
  const float inverse_scale = 1.0f / output_scale;
  const int32_t qmax = qmin + 255;
  return tabulate(qmin, [&](int32_t q) {
    const float x = input_scale * static_cast<float>(q - input_zero_point);
    const float y =
        std::signbit(x) ? 1.0f / (1.0f + std::exp(-x)) : 1.0f - 1.0f / (1.0f + std::exp(x));
    const float scaled = std::nearbyint(y * inverse_scale);
    return std::clamp(static_cast<int32_t>(scaled) + output_zero_point, qmin, qmax);
  });
}

}  // namespace qseg::quant

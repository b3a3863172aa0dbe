// ADD (without broadcasting) and 8-bit QUANTIZE on NEON, 8 elements at a time with the fixed-point
// arithmetic of quant/quant.h, bit-exact; the last elements go one at a time through the
// reference arithmetic.
#include <arm_neon.h>

#include <algorithm>

#include "kernels/opt/neon/neon_kernels.h"
#include "kernels/opt/neon/vector_math.h"
#include "kernels/opt/optimized.h"

namespace qseg::kernels::opt::neon {

namespace {

template <bool kSigned>
int32_t element(const uint8_t* p, int64_t i) {
  return kSigned ? static_cast<int8_t>(p[i]) : p[i];
}

// 8 bytes widened to two int32x4 (low, high) plus `offset`.
template <bool kSigned>
inline void load_offset(const uint8_t* p, int32x4_t offset, int32x4_t* low, int32x4_t* high) {
  const int16x8_t x = load_widen8<kSigned>(p);
  *low = vaddw_s16(offset, vget_low_s16(x));
  *high = vaddw_high_s16(offset, x);
}

template <bool kSigned>
void add_elements(const AddParams& p, const uint8_t* input1, const uint8_t* input2, uint8_t* output,
                  int64_t begin, int64_t end) {
  const quant::AddQuantization& q = p.quantization;
  const int32x4_t offset1 = vdupq_n_s32(q.input1_offset);
  const int32x4_t offset2 = vdupq_n_s32(q.input2_offset);
  const int32x4_t m1 = vdupq_n_s32(q.input1_multiplier.multiplier);
  const int32x4_t s1 = vdupq_n_s32(q.input1_multiplier.shift);  // <= 0: a right shift
  const int32x4_t m2 = vdupq_n_s32(q.input2_multiplier.multiplier);
  const int32x4_t s2 = vdupq_n_s32(q.input2_multiplier.shift);
  const int32x4_t mo = vdupq_n_s32(q.output_multiplier.multiplier);
  const int32x4_t so = vdupq_n_s32(q.output_multiplier.shift);
  const int32x4_t low = vdupq_n_s32(p.activation_range.min - q.output_offset);
  const int32x4_t high = vdupq_n_s32(p.activation_range.max - q.output_offset);
  const int32x4_t output_offset = vdupq_n_s32(q.output_offset);
  const int32x4_t left_shift = vdupq_n_s32(q.left_shift);
  const auto one = [&](int32x4_t a, int32x4_t b) {
    const int32x4_t sum = vaddq_s32(multiply_by_multiplier(vshlq_s32(a, left_shift), m1, s1),
                                    multiply_by_multiplier(vshlq_s32(b, left_shift), m2, s2));
    const int32x4_t v = multiply_by_multiplier(sum, mo, so);
    return vaddq_s32(vminq_s32(vmaxq_s32(v, low), high), output_offset);
  };
  int64_t i = begin;
  for (; i + 8 <= end; i += 8) {
    int32x4_t a0, a1, b0, b1;
    load_offset<kSigned>(input1 + i, offset1, &a0, &a1);
    load_offset<kSigned>(input2 + i, offset2, &b0, &b1);
    vst1_u8(output + i, narrow8<kSigned>(one(a0, b0), one(a1, b1)));
  }
  for (; i < end; ++i) {
    output[i] = static_cast<uint8_t>(quant::add_quantized(
        element<kSigned>(input1, i), element<kSigned>(input2, i), q, p.activation_range));
  }
}

// XNNPACK's ADD (quant::add_xnnpack), 8 elements at a time.
template <bool kSigned>
void add_elements_xnnpack(const AddParams& p, const uint8_t* input1, const uint8_t* input2,
                          uint8_t* output, int64_t begin, int64_t end) {
  const quant::XnnpackAdd& x = *p.xnnpack;
  const int32x4_t m1 = vdupq_n_s32(x.multiplier1);
  const int32x4_t m2 = vdupq_n_s32(x.multiplier2);
  const int32x4_t bias = vdupq_n_s32(x.bias);
  const int32x4_t shift = vdupq_n_s32(-x.shift);  // vshlq by a negative count: arithmetic right
  const int32x4_t low = vdupq_n_s32(p.activation_range.min - x.output_zero_point);
  const int32x4_t high = vdupq_n_s32(p.activation_range.max - x.output_zero_point);
  const int32x4_t zero_point = vdupq_n_s32(x.output_zero_point);
  const int32x4_t zero = vdupq_n_s32(0);
  const auto one = [&](int32x4_t a, int32x4_t b) {
    const int32x4_t v = vshlq_s32(vmlaq_s32(vmlaq_s32(bias, a, m1), b, m2), shift);
    return vaddq_s32(vminq_s32(vmaxq_s32(v, low), high), zero_point);
  };
  int64_t i = begin;
  for (; i + 8 <= end; i += 8) {
    int32x4_t a0, a1, b0, b1;
    load_offset<kSigned>(input1 + i, zero, &a0, &a1);
    load_offset<kSigned>(input2 + i, zero, &b0, &b1);
    vst1_u8(output + i, narrow8<kSigned>(one(a0, b0), one(a1, b1)));
  }
  for (; i < end; ++i) {
    output[i] = static_cast<uint8_t>(quant::add_xnnpack(
        element<kSigned>(input1, i), element<kSigned>(input2, i), x, p.activation_range));
  }
}

template <bool kSignedIn, bool kSignedOut>
void requantize_elements(const QuantizeParams& p, const uint8_t* input, uint8_t* output,
                         int64_t begin, int64_t end) {
  const bool convert = p.use_float_convert;
  const int32x4_t minus_input_zero = vdupq_n_s32(-p.input_zero_point);
  const int32x4_t multiplier = vdupq_n_s32(p.multiplier.multiplier);
  const int32x4_t right = vdupq_n_s32(std::min(0, p.multiplier.shift));
  const int32x4_t left = vdupq_n_s32(std::max(0, p.multiplier.shift));
  const int32x4_t low = vdupq_n_s32(p.range.min - p.output_zero_point);
  const int32x4_t high = vdupq_n_s32(p.range.max - p.output_zero_point);
  const int32x4_t output_zero = vdupq_n_s32(p.output_zero_point);
  const int32x4_t convert_multiplier = vdupq_n_s32(p.convert.multiplier);
  const int32x4_t convert_bias = vdupq_n_s32(p.convert.bias);
  const int32x4_t range_min = vdupq_n_s32(p.range.min);
  const int32x4_t range_max = vdupq_n_s32(p.range.max);
  const auto one = [&](int32x4_t q) {
    if (convert) {
      const int32x4_t v = vshrq_n_s32(vmlaq_s32(convert_bias, convert_multiplier, q), 8);
      return vminq_s32(vmaxq_s32(v, range_min), range_max);
    }
    const int32x4_t v =
        multiply_by_multiplier(vshlq_s32(vaddq_s32(q, minus_input_zero), left), multiplier, right);
    return vaddq_s32(vminq_s32(vmaxq_s32(v, low), high), output_zero);
  };
  int64_t i = begin;
  for (; i + 8 <= end; i += 8) {
    const int16x8_t x = load_widen8<kSignedIn>(input + i);
    vst1_u8(output + i,
            narrow8<kSignedOut>(one(vmovl_s16(vget_low_s16(x))), one(vmovl_high_s16(x))));
  }
  for (; i < end; ++i) {
    const int32_t q = element<kSignedIn>(input, i);
    output[i] =
        static_cast<uint8_t>(convert ? quant::float_convert(q, p.convert, p.range)
                                     : quant::requantize(q, p.input_zero_point, p.multiplier,
                                                         p.output_zero_point, p.range));
  }
}

}  // namespace

void add(const AddParams& p, const uint8_t* input1, const uint8_t* input2, uint8_t* output,
         int64_t begin, int64_t end) {
  const bool is_signed = p.type == DataType::kInt8;
  if (p.xnnpack) {
    return is_signed ? add_elements_xnnpack<true>(p, input1, input2, output, begin, end)
                     : add_elements_xnnpack<false>(p, input1, input2, output, begin, end);
  }
  return is_signed ? add_elements<true>(p, input1, input2, output, begin, end)
                   : add_elements<false>(p, input1, input2, output, begin, end);
}

void quantize(const QuantizeParams& p, const uint8_t* input, uint8_t* output, int64_t begin,
              int64_t end) {
  const bool in_signed = p.input_type == DataType::kInt8;
  const bool out_signed = p.output_type == DataType::kInt8;
  if (in_signed && out_signed) return requantize_elements<true, true>(p, input, output, begin, end);
  if (in_signed) return requantize_elements<true, false>(p, input, output, begin, end);
  if (out_signed) return requantize_elements<false, true>(p, input, output, begin, end);
  requantize_elements<false, false>(p, input, output, begin, end);
}

}  // namespace qseg::kernels::opt::neon

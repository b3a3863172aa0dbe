// ADD (without broadcasting) and 8-bit QUANTIZE on AVX2, 8 elements at a time with the
// fixed-point arithmetic of quant/quant.h, bit-exact; the last elements go one at a time
// through the reference arithmetic.
#include <immintrin.h>

#include <algorithm>

#include "kernels/opt/avx2/avx2_kernels.h"
#include "kernels/opt/avx2/vector_math.h"
#include "kernels/opt/optimized.h"

namespace qseg::kernels::opt::avx2 {

namespace {

template <bool kSigned>
int32_t element(const uint8_t* p, int64_t i) {
  return kSigned ? static_cast<int8_t>(p[i]) : p[i];
}

template <bool kSigned>
void add_elements(const AddParams& p, const uint8_t* input1, const uint8_t* input2, uint8_t* output,
                  int64_t begin, int64_t end) {
  const quant::AddQuantization& q = p.quantization;
  const __m256i offset1 = _mm256_set1_epi32(q.input1_offset);
  const __m256i offset2 = _mm256_set1_epi32(q.input2_offset);
  const __m256i m1 = _mm256_set1_epi32(q.input1_multiplier.multiplier);
  const __m256i s1 = _mm256_set1_epi32(-q.input1_multiplier.shift);
  const __m256i m2 = _mm256_set1_epi32(q.input2_multiplier.multiplier);
  const __m256i s2 = _mm256_set1_epi32(-q.input2_multiplier.shift);
  const __m256i mo = _mm256_set1_epi32(q.output_multiplier.multiplier);
  const __m256i so = _mm256_set1_epi32(-q.output_multiplier.shift);
  const __m256i low = _mm256_set1_epi32(p.activation_range.min - q.output_offset);
  const __m256i high = _mm256_set1_epi32(p.activation_range.max - q.output_offset);
  const __m256i output_offset = _mm256_set1_epi32(q.output_offset);
  const __m128i left_shift = _mm_cvtsi32_si128(q.left_shift);
  int64_t i = begin;
  for (; i + kBlock <= end; i += kBlock) {
    const __m256i a =
        _mm256_sll_epi32(_mm256_add_epi32(load_widen<kSigned>(input1 + i), offset1), left_shift);
    const __m256i b =
        _mm256_sll_epi32(_mm256_add_epi32(load_widen<kSigned>(input2 + i), offset2), left_shift);
    const __m256i sum =
        _mm256_add_epi32(multiply_by_multiplier(a, m1, s1), multiply_by_multiplier(b, m2, s2));
    __m256i v = multiply_by_multiplier(sum, mo, so);
    v = _mm256_add_epi32(_mm256_min_epi32(_mm256_max_epi32(v, low), high), output_offset);
    store_narrow<kSigned>(output + i, v);
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
  const __m256i m1 = _mm256_set1_epi32(x.multiplier1);
  const __m256i m2 = _mm256_set1_epi32(x.multiplier2);
  const __m256i bias = _mm256_set1_epi32(x.bias);
  const __m256i low = _mm256_set1_epi32(p.activation_range.min - x.output_zero_point);
  const __m256i high = _mm256_set1_epi32(p.activation_range.max - x.output_zero_point);
  const __m256i zero_point = _mm256_set1_epi32(x.output_zero_point);
  const __m128i shift = _mm_cvtsi32_si128(x.shift);
  int64_t i = begin;
  for (; i + kBlock <= end; i += kBlock) {
    const __m256i a = _mm256_mullo_epi32(load_widen<kSigned>(input1 + i), m1);
    const __m256i b = _mm256_mullo_epi32(load_widen<kSigned>(input2 + i), m2);
    __m256i v = _mm256_sra_epi32(_mm256_add_epi32(_mm256_add_epi32(bias, a), b), shift);
    v = _mm256_add_epi32(_mm256_min_epi32(_mm256_max_epi32(v, low), high), zero_point);
    store_narrow<kSigned>(output + i, v);
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
  const __m256i input_zero = _mm256_set1_epi32(p.input_zero_point);
  const __m256i multiplier = _mm256_set1_epi32(p.multiplier.multiplier);
  const __m256i right = _mm256_set1_epi32(std::max(0, -p.multiplier.shift));
  const __m128i left = _mm_cvtsi32_si128(std::max(0, p.multiplier.shift));
  const __m256i low = _mm256_set1_epi32(p.range.min - p.output_zero_point);
  const __m256i high = _mm256_set1_epi32(p.range.max - p.output_zero_point);
  const __m256i output_zero = _mm256_set1_epi32(p.output_zero_point);
  const __m256i convert_multiplier = _mm256_set1_epi32(p.convert.multiplier);
  const __m256i convert_bias = _mm256_set1_epi32(p.convert.bias);
  const __m256i range_min = _mm256_set1_epi32(p.range.min);
  const __m256i range_max = _mm256_set1_epi32(p.range.max);
  int64_t i = begin;
  for (; i + kBlock <= end; i += kBlock) {
    const __m256i q = load_widen<kSignedIn>(input + i);
    __m256i v;
    if (convert) {
      v = _mm256_srai_epi32(
          _mm256_add_epi32(convert_bias, _mm256_mullo_epi32(convert_multiplier, q)), 8);
      v = _mm256_min_epi32(_mm256_max_epi32(v, range_min), range_max);
    } else {
      v = multiply_by_multiplier(_mm256_sll_epi32(_mm256_sub_epi32(q, input_zero), left),
                                 multiplier, right);
      v = _mm256_add_epi32(_mm256_min_epi32(_mm256_max_epi32(v, low), high), output_zero);
    }
    store_narrow<kSignedOut>(output + i, v);
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

}  // namespace qseg::kernels::opt::avx2

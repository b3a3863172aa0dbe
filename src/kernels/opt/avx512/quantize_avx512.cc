// QUANTIZE between 8-bit types on AVX-512: TFLite's Requantize (fixed-point multiplier, a left
// shift of at most 23 bits so that (q - zero_point) << left stays exact in int32) or XNNPACK's
// 8-fractional-bit conversion, 16 elements at a time, bit-exact with quant/quant.h.
#include <immintrin.h>

#include <algorithm>

#include "kernels/opt/avx512/avx512_kernels.h"
#include "kernels/opt/avx512/vector_math.h"
#include "kernels/opt/optimized.h"

namespace qseg::kernels::opt::avx512 {

namespace {

template <bool kSignedInput>
void requantize_elements(const QuantizeParams& p, const uint8_t* input, uint8_t* output,
                         int64_t begin, int64_t end) {
  const bool convert = p.use_float_convert;
  const __m512i input_zero = _mm512_set1_epi32(p.input_zero_point);
  const __m512i multiplier = _mm512_set1_epi32(p.multiplier.multiplier);
  const __m512i right = _mm512_set1_epi32(std::max(0, -p.multiplier.shift));
  const auto left = static_cast<unsigned>(std::max(0, p.multiplier.shift));
  const __m512i low = _mm512_set1_epi32(p.range.min - p.output_zero_point);
  const __m512i high = _mm512_set1_epi32(p.range.max - p.output_zero_point);
  const __m512i output_zero = _mm512_set1_epi32(p.output_zero_point);
  const __m512i convert_multiplier = _mm512_set1_epi32(p.convert.multiplier);
  const __m512i convert_bias = _mm512_set1_epi32(p.convert.bias);
  const __m512i range_min = _mm512_set1_epi32(p.range.min);
  const __m512i range_max = _mm512_set1_epi32(p.range.max);
  for (int64_t i = begin; i < end; i += 16) {
    const __mmask16 mask = lane_mask(static_cast<int32_t>(std::min<int64_t>(16, end - i)));
    const __m512i q = load_widen<kSignedInput>(input + i, mask);
    __m512i v;
    if (convert) {
      // (bias + multiplier * q) >> 8 with a floor shift, then the range.
      v = _mm512_srai_epi32(
          _mm512_add_epi32(convert_bias, _mm512_mullo_epi32(convert_multiplier, q)), 8);
      v = _mm512_min_epi32(_mm512_max_epi32(v, range_min), range_max);
    } else {
      const __m512i shifted = _mm512_slli_epi32(_mm512_sub_epi32(q, input_zero), left);
      v = multiply_by_multiplier(shifted, multiplier, right);
      v = _mm512_add_epi32(_mm512_min_epi32(_mm512_max_epi32(v, low), high), output_zero);
    }
    store_narrow(output + i, v, mask);
  }
}

}  // namespace

void quantize(const QuantizeParams& p, const uint8_t* input, uint8_t* output, int64_t begin,
              int64_t end) {
  if (p.input_type == DataType::kInt8) {
    requantize_elements<true>(p, input, output, begin, end);
  } else {
    requantize_elements<false>(p, input, output, begin, end);
  }
}

}  // namespace qseg::kernels::opt::avx512

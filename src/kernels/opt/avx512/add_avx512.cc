// ADD for uint8 and int8 on AVX-512 without broadcasting, 16 elements at a time, bit-exact:
// XNNPACK's arithmetic (quant::add_xnnpack) or TFLite's fixed-point scheme (quant::add_quantized).
#include <immintrin.h>

#include "kernels/opt/avx512/avx512_kernels.h"
#include "kernels/opt/avx512/vector_math.h"
#include "kernels/opt/optimized.h"

namespace qseg::kernels::opt::avx512 {

namespace {

template <bool kSigned>
void add_elements(const AddParams& p, const uint8_t* input1, const uint8_t* input2, uint8_t* output,
                  int64_t begin, int64_t end) {
  const quant::AddQuantization& q = p.quantization;
  const __m512i offset1 = _mm512_set1_epi32(q.input1_offset);
  const __m512i offset2 = _mm512_set1_epi32(q.input2_offset);
  const __m512i m1 = _mm512_set1_epi32(q.input1_multiplier.multiplier);
  const __m512i s1 = _mm512_set1_epi32(-q.input1_multiplier.shift);
  const __m512i m2 = _mm512_set1_epi32(q.input2_multiplier.multiplier);
  const __m512i s2 = _mm512_set1_epi32(-q.input2_multiplier.shift);
  const __m512i mo = _mm512_set1_epi32(q.output_multiplier.multiplier);
  const __m512i so = _mm512_set1_epi32(-q.output_multiplier.shift);
  const __m512i low = _mm512_set1_epi32(p.activation_range.min - q.output_offset);
  const __m512i high = _mm512_set1_epi32(p.activation_range.max - q.output_offset);
  const __m512i output_offset = _mm512_set1_epi32(q.output_offset);
  const auto left_shift = static_cast<unsigned>(q.left_shift);
  for (int64_t i = begin; i < end; i += 16) {
    const __mmask16 mask = lane_mask(static_cast<int32_t>(std::min<int64_t>(16, end - i)));
    const __m512i a = _mm512_slli_epi32(
        _mm512_add_epi32(load_widen<kSigned>(input1 + i, mask), offset1), left_shift);
    const __m512i b = _mm512_slli_epi32(
        _mm512_add_epi32(load_widen<kSigned>(input2 + i, mask), offset2), left_shift);
    const __m512i sum =
        _mm512_add_epi32(multiply_by_multiplier(a, m1, s1), multiply_by_multiplier(b, m2, s2));
    __m512i v = multiply_by_multiplier(sum, mo, so);
    v = _mm512_add_epi32(_mm512_min_epi32(_mm512_max_epi32(v, low), high), output_offset);
    store_narrow(output + i, v, mask);
  }
}

template <bool kSigned>
void add_elements_xnnpack(const AddParams& p, const uint8_t* input1, const uint8_t* input2,
                          uint8_t* output, int64_t begin, int64_t end) {
  const quant::XnnpackAdd& x = *p.xnnpack;
  const __m512i m1 = _mm512_set1_epi32(x.multiplier1);
  const __m512i m2 = _mm512_set1_epi32(x.multiplier2);
  const __m512i bias = _mm512_set1_epi32(x.bias);
  const __m512i low = _mm512_set1_epi32(p.activation_range.min - x.output_zero_point);
  const __m512i high = _mm512_set1_epi32(p.activation_range.max - x.output_zero_point);
  const __m512i zero_point = _mm512_set1_epi32(x.output_zero_point);
  const auto shift = static_cast<unsigned>(x.shift);
  for (int64_t i = begin; i < end; i += 16) {
    const __mmask16 mask = lane_mask(static_cast<int32_t>(std::min<int64_t>(16, end - i)));
    const __m512i a = _mm512_mullo_epi32(load_widen<kSigned>(input1 + i, mask), m1);
    const __m512i b = _mm512_mullo_epi32(load_widen<kSigned>(input2 + i, mask), m2);
    __m512i v = _mm512_srai_epi32(_mm512_add_epi32(_mm512_add_epi32(bias, a), b), shift);
    v = _mm512_add_epi32(_mm512_min_epi32(_mm512_max_epi32(v, low), high), zero_point);
    store_narrow(output + i, v, mask);
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

}  // namespace qseg::kernels::opt::avx512

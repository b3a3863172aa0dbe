// MobileNetV3's elementwise ops on AVX-512, bit-exact with the reference kernels: 8-bit MUL in
// XNNPACK's arithmetic (quant::mul_xnnpack), 16 elements at a time (the offset product in int32,
// converted to float, scaled, clamped, rounded half to even as VCVTPS2DQ does under the default
// MXCSR, plus the zero point); the HARD_SWISH / LOGISTIC table lookup, 64 bytes at a time; float
// HARD_SWISH in XNNPACK's formula.
#include <immintrin.h>

#include <algorithm>

#include "kernels/opt/avx512/avx512_kernels.h"
#include "kernels/opt/avx512/vector_math.h"
#include "kernels/opt/optimized.h"

namespace qseg::kernels::opt::avx512 {

namespace {

struct MulVectors {
  __m512i zero_point_a, zero_point_b, output_zero_point;
  __m512 scale, low, high;
};

MulVectors mul_vectors(const quant::XnnpackMul& m, quant::QuantizedRange range) {
  return {_mm512_set1_epi32(m.input1_zero_point),
          _mm512_set1_epi32(m.input2_zero_point),
          _mm512_set1_epi32(m.output_zero_point),
          _mm512_set1_ps(m.scale),
          _mm512_set1_ps(static_cast<float>(range.min - m.output_zero_point)),
          _mm512_set1_ps(static_cast<float>(range.max - m.output_zero_point))};
}

inline __m512i requantize_product(__m512i a, __m512i b, const MulVectors& v) {
  const __m512i product =
      _mm512_mullo_epi32(_mm512_sub_epi32(a, v.zero_point_a), _mm512_sub_epi32(b, v.zero_point_b));
  __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(product), v.scale);
  f = _mm512_min_ps(_mm512_max_ps(f, v.low), v.high);
  return _mm512_add_epi32(_mm512_cvtps_epi32(f), v.output_zero_point);
}

// out[i] = a[i] * b[i] for i in [0, n).
template <bool kSigned>
void mul_run(const MulVectors& v, const uint8_t* a, const uint8_t* b, uint8_t* out, int64_t n) {
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 mask = lane_mask(static_cast<int32_t>(std::min<int64_t>(16, n - i)));
    store_narrow(
        out + i,
        requantize_product(load_widen<kSigned>(a + i, mask), load_widen<kSigned>(b + i, mask), v),
        mask);
  }
}

// out[i] = a[i] * b for i in [0, n).
template <bool kSigned>
void mul_run_scalar(const MulVectors& v, const uint8_t* a, __m512i b, uint8_t* out, int64_t n) {
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 mask = lane_mask(static_cast<int32_t>(std::min<int64_t>(16, n - i)));
    store_narrow(out + i, requantize_product(load_widen<kSigned>(a + i, mask), b, v), mask);
  }
}

template <bool kSigned>
void mul_elements(const quant::XnnpackMul& m, quant::QuantizedRange range, const uint8_t* a,
                  const uint8_t* b, int64_t vector_length, uint8_t* output, int64_t begin,
                  int64_t end) {
  const MulVectors v = mul_vectors(m, range);
  if (vector_length == 0)
    return mul_run<kSigned>(v, a + begin, b + begin, output + begin, end - begin);
  if (vector_length == 1) {
    const int32_t value = kSigned ? static_cast<int8_t>(b[0]) : b[0];
    return mul_run_scalar<kSigned>(v, a + begin, _mm512_set1_epi32(value), output + begin,
                                   end - begin);
  }
  // Runs of the vector: from position begin % vector_length to its end, then whole vectors.
  for (int64_t i = begin; i < end;) {
    const int64_t position = i % vector_length;
    const int64_t n = std::min(end - i, vector_length - position);
    mul_run<kSigned>(v, a + i, b + position, output + i, n);
    i += n;
  }
}

// The table's 16 rows of 16 bytes, each repeated in the four 128-bit lanes (VPSHUFB looks up
// within a lane).
struct TableRows {
  __m512i rows[16];
};

}  // namespace

void mul(const quant::XnnpackMul& m, quant::QuantizedRange range, bool is_signed, const uint8_t* a,
         const uint8_t* b, int64_t vector_length, uint8_t* output, int64_t begin, int64_t end) {
  return is_signed ? mul_elements<true>(m, range, a, b, vector_length, output, begin, end)
                   : mul_elements<false>(m, range, a, b, vector_length, output, begin, end);
}

// 64 bytes at a time: the low nibble of each index picks a byte of each row (VPSHUFB), the high
// nibble which row's pick is kept.
void lookup_8bit(const ActivationTableParams& p, const uint8_t* input, uint8_t* output,
                 int64_t begin, int64_t end) {
  TableRows t;
  for (int r = 0; r < 16; ++r) {
    t.rows[r] = _mm512_maskz_broadcast_i32x4(
        0xFFFF, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p.table.data() + 16 * r)));
  }
  const __m512i flip = _mm512_set1_epi8(p.type == DataType::kInt8 ? static_cast<char>(0x80) : 0);
  const __m512i low_nibble = _mm512_set1_epi8(0x0F);
  for (int64_t i = begin; i < end; i += 64) {
    const int64_t n = std::min<int64_t>(64, end - i);
    const __mmask64 mask = n >= 64 ? ~__mmask64{0} : (__mmask64{1} << n) - 1;
    const __m512i index = _mm512_xor_si512(_mm512_maskz_loadu_epi8(mask, input + i), flip);
    const __m512i low = _mm512_and_si512(index, low_nibble);
    const __m512i high = _mm512_and_si512(_mm512_srli_epi16(index, 4), low_nibble);
    __m512i result = _mm512_setzero_si512();
    for (int r = 0; r < 16; ++r) {
      const __mmask64 in_row = _mm512_cmpeq_epi8_mask(high, _mm512_set1_epi8(static_cast<char>(r)));
      result = _mm512_mask_mov_epi8(result, in_row, _mm512_shuffle_epi8(t.rows[r], low));
    }
    _mm512_mask_storeu_epi8(output + i, mask, result);
  }
}

// min(max(x + 3, 0), 6) * (x * (1/6)); the operand order of MAX and MIN makes a NaN come out as
// std::max and std::min give it.
void hard_swish_float(const ActivationTableParams&, const float* input, float* output,
                      int64_t begin, int64_t end) {
  const __m512 three = _mm512_set1_ps(3.0f), six = _mm512_set1_ps(6.0f);
  const __m512 sixth = _mm512_set1_ps(1.0f / 6.0f), zero = _mm512_setzero_ps();
  for (int64_t i = begin; i < end; i += 16) {
    const __mmask16 mask = lane_mask(static_cast<int32_t>(std::min<int64_t>(16, end - i)));
    const __m512 x = _mm512_maskz_loadu_ps(mask, input + i);
    const __m512 clamped = _mm512_min_ps(six, _mm512_max_ps(zero, _mm512_add_ps(x, three)));
    _mm512_mask_storeu_ps(output + i, mask, _mm512_mul_ps(clamped, _mm512_mul_ps(x, sixth)));
  }
}

}  // namespace qseg::kernels::opt::avx512

// MobileNetV3's elementwise ops on AVX2 (8-bit MUL, the HARD_SWISH / LOGISTIC table lookup, float
// HARD_SWISH), bit-exact with the reference kernels: MUL in XNNPACK's arithmetic
// (quant::mul_xnnpack), 8 elements at a time, rounding half to even as VCVTPS2DQ does under the
// default MXCSR; the last elements go one at a time through the reference arithmetic.
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

struct MulVectors {
  __m256i zero_point_a, zero_point_b, output_zero_point;
  __m256 scale, low, high;
};

MulVectors mul_vectors(const quant::XnnpackMul& m, quant::QuantizedRange range) {
  return {_mm256_set1_epi32(m.input1_zero_point),
          _mm256_set1_epi32(m.input2_zero_point),
          _mm256_set1_epi32(m.output_zero_point),
          _mm256_set1_ps(m.scale),
          _mm256_set1_ps(static_cast<float>(range.min - m.output_zero_point)),
          _mm256_set1_ps(static_cast<float>(range.max - m.output_zero_point))};
}

inline __m256i requantize_product(__m256i a, __m256i b, const MulVectors& v) {
  const __m256i product =
      _mm256_mullo_epi32(_mm256_sub_epi32(a, v.zero_point_a), _mm256_sub_epi32(b, v.zero_point_b));
  __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(product), v.scale);
  f = _mm256_min_ps(_mm256_max_ps(f, v.low), v.high);
  return _mm256_add_epi32(_mm256_cvtps_epi32(f), v.output_zero_point);
}

// out[i] = a[i] * b[i * b_step] for i in [0, n) (b_step 1, or 0 for one value).
template <bool kSigned>
void mul_run(const quant::XnnpackMul& m, quant::QuantizedRange range, const MulVectors& v,
             const uint8_t* a, const uint8_t* b, int64_t b_step, uint8_t* out, int64_t n) {
  const __m256i b_value = _mm256_set1_epi32(element<kSigned>(b, 0));
  int64_t i = 0;
  for (; i + kBlock <= n; i += kBlock) {
    const __m256i bv = b_step == 0 ? b_value : load_widen<kSigned>(b + i);
    store_narrow<kSigned>(out + i, requantize_product(load_widen<kSigned>(a + i), bv, v));
  }
  for (; i < n; ++i) {
    out[i] = static_cast<uint8_t>(
        quant::mul_xnnpack(element<kSigned>(a, i), element<kSigned>(b, i * b_step), m, range));
  }
}

template <bool kSigned>
void mul_elements(const quant::XnnpackMul& m, quant::QuantizedRange range, const uint8_t* a,
                  const uint8_t* b, int64_t vector_length, uint8_t* output, int64_t begin,
                  int64_t end) {
  const MulVectors v = mul_vectors(m, range);
  if (vector_length == 0) {
    return mul_run<kSigned>(m, range, v, a + begin, b + begin, 1, output + begin, end - begin);
  }
  if (vector_length == 1) {
    return mul_run<kSigned>(m, range, v, a + begin, b, 0, output + begin, end - begin);
  }
  // Runs of the vector: from position begin % vector_length to its end, then whole vectors.
  for (int64_t i = begin; i < end;) {
    const int64_t position = i % vector_length;
    const int64_t n = std::min(end - i, vector_length - position);
    mul_run<kSigned>(m, range, v, a + i, b + position, 1, output + i, n);
    i += n;
  }
}

}  // namespace

void mul(const quant::XnnpackMul& m, quant::QuantizedRange range, bool is_signed, const uint8_t* a,
         const uint8_t* b, int64_t vector_length, uint8_t* output, int64_t begin, int64_t end) {
  return is_signed ? mul_elements<true>(m, range, a, b, vector_length, output, begin, end)
                   : mul_elements<false>(m, range, a, b, vector_length, output, begin, end);
}

// 32 bytes at a time: the low nibble of each index picks a byte of each 16-byte row of the table
// (VPSHUFB), the high nibble which row's pick is kept.
void lookup_8bit(const ActivationTableParams& p, const uint8_t* input, uint8_t* output,
                 int64_t begin, int64_t end) {
  __m256i rows[16];
  for (int r = 0; r < 16; ++r) {
    rows[r] = _mm256_broadcastsi128_si256(
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(p.table.data() + 16 * r)));
  }
  const uint8_t flip_byte = p.type == DataType::kInt8 ? 0x80 : 0;
  const __m256i flip = _mm256_set1_epi8(static_cast<char>(flip_byte));
  const __m256i low_nibble = _mm256_set1_epi8(0x0F);
  int64_t i = begin;
  for (; i + 32 <= end; i += 32) {
    const __m256i index = _mm256_xor_si256(load256(input + i), flip);
    const __m256i low = _mm256_and_si256(index, low_nibble);
    const __m256i high = _mm256_and_si256(_mm256_srli_epi16(index, 4), low_nibble);
    __m256i result = _mm256_setzero_si256();
    for (int r = 0; r < 16; ++r) {
      const __m256i in_row = _mm256_cmpeq_epi8(high, _mm256_set1_epi8(static_cast<char>(r)));
      result = _mm256_blendv_epi8(result, _mm256_shuffle_epi8(rows[r], low), in_row);
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(output + i), result);
  }
  for (; i < end; ++i) output[i] = p.table[input[i] ^ flip_byte];
}

// min(max(x + 3, 0), 6) * (x * (1/6)); the operand order of MAX and MIN makes a NaN come out as
// std::max and std::min give it.
void hard_swish_float(const ActivationTableParams&, const float* input, float* output,
                      int64_t begin, int64_t end) {
  const __m256 three = _mm256_set1_ps(3.0f), six = _mm256_set1_ps(6.0f);
  const __m256 sixth = _mm256_set1_ps(1.0f / 6.0f), zero = _mm256_setzero_ps();
  int64_t i = begin;
  for (; i + 8 <= end; i += 8) {
    const __m256 x = _mm256_loadu_ps(input + i);
    const __m256 clamped = _mm256_min_ps(six, _mm256_max_ps(zero, _mm256_add_ps(x, three)));
    _mm256_storeu_ps(output + i, _mm256_mul_ps(clamped, _mm256_mul_ps(x, sixth)));
  }
  for (; i < end; ++i) {
    const float x = input[i];
    output[i] = std::min(std::max(x + 3.0f, 0.0f), 6.0f) * (x * (1.0f / 6.0f));
  }
}

}  // namespace qseg::kernels::opt::avx2

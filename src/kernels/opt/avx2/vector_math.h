// AVX2 helpers shared by the AVX2 kernels: TFLite's fixed-point requantization and XNNPACK's
// float one on 8 int32 lanes, bit-exact with quant/quant.h, and 8-byte loads and stores.
// Included only by files compiled for AVX2.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/opt/optimized.h"

namespace qseg::kernels::opt::avx2 {

inline constexpr int32_t kBlock = 8;  // channels per vector

struct BlockRequantization {
  __m256i multiplier[2], nudge[2], shift[2], correction[2], sign_bias[2];  // even, odd lanes
  __m256 scale;
  __m256i offset, low, high;
  __m256 low_f, high_f;
  bool fixed_point;
  bool correct_negatives;
};

inline __m256i load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

[[gnu::always_inline]] inline BlockRequantization load_block_requantization(
    const ChannelRequantization& r, int32_t first_channel) {
  BlockRequantization b;
  b.fixed_point = r.fixed_point;
  b.correct_negatives = !r.clamps_negatives;
  for (int half = 0; half < 2; ++half) {
    const size_t at = static_cast<size_t>(first_channel) + 4 * half;
    b.multiplier[half] = load256(r.lanes8.multiplier.data() + at);
    b.nudge[half] = load256(r.lanes8.nudge.data() + at);
    b.shift[half] = load256(r.lanes8.shift.data() + at);
    b.correction[half] = load256(r.lanes8.correction.data() + at);
    b.sign_bias[half] = load256(r.lanes8.sign_bias.data() + at);
  }
  b.scale = _mm256_loadu_ps(r.scale.data() + first_channel);
  b.offset = _mm256_set1_epi32(r.output_offset);
  b.low = _mm256_set1_epi32(r.min - r.output_offset);
  b.high = _mm256_set1_epi32(r.max - r.output_offset);
  b.low_f = _mm256_set1_ps(static_cast<float>(r.min - r.output_offset));
  b.high_f = _mm256_set1_ps(static_cast<float>(r.max - r.output_offset));
  return b;
}

// See ChannelRequantization: the nested roundings as one 64-bit add and shift, the arithmetic
// shift done as a logical one on the sign-flipped value.
[[gnu::always_inline]] inline __m256i fixed_point_lanes(__m256i x, const BlockRequantization& b,
                                                        int half) {
  const __m256i p = _mm256_mul_epi32(x, b.multiplier[half]);
  __m256i sum = _mm256_add_epi64(p, b.nudge[half]);
  if (b.correct_negatives) {
    const __m256i negative = _mm256_cmpgt_epi64(_mm256_set1_epi64x(-(int64_t{1} << 30)), p);
    sum = _mm256_sub_epi64(sum, _mm256_and_si256(negative, b.correction[half]));
  }
  const __m256i flipped = _mm256_xor_si256(sum, _mm256_set1_epi64x(INT64_MIN));
  return _mm256_sub_epi64(_mm256_srlv_epi64(flipped, b.shift[half]), b.sign_bias[half]);
}

[[gnu::always_inline]] inline __m256i requantize(__m256i acc, const BlockRequantization& b) {
  if (b.fixed_point) {
    const __m256i even = fixed_point_lanes(acc, b, 0);
    const __m256i odd = fixed_point_lanes(_mm256_srli_epi64(acc, 32), b, 1);
    __m256i v = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
    v = _mm256_min_epi32(_mm256_max_epi32(v, b.low), b.high);
    return _mm256_add_epi32(v, b.offset);
  }
  __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(acc), b.scale);
  v = _mm256_min_ps(_mm256_max_ps(v, b.low_f), b.high_f);
  return _mm256_add_epi32(_mm256_cvtps_epi32(v), b.offset);  // MXCSR: nearest, ties to even
}

// gemmlowp's SaturatingRoundingDoublingHighMul (m > 0) and RoundingDivideByPOT on 8 lanes.
inline __m256i doubling_high_mul(__m256i x, __m256i m) {
  const __m256i nudge = _mm256_set1_epi64x(int64_t{1} << 30);
  const __m256i even = _mm256_add_epi64(_mm256_mul_epi32(x, m), nudge);
  const __m256i odd =
      _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(x, 32), _mm256_srli_epi64(m, 32)), nudge);
  return _mm256_blend_epi32(_mm256_srli_epi64(even, 31), _mm256_slli_epi64(odd, 1), 0xAA);
}
inline __m256i rounding_shift_right(__m256i x, __m256i e) {
  const __m256i one = _mm256_set1_epi32(1);
  const __m256i mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, e), one);
  const __m256i remainder = _mm256_and_si256(x, mask);
  const __m256i threshold = _mm256_add_epi32(_mm256_srli_epi32(mask, 1), _mm256_srli_epi32(x, 31));
  const __m256i up = _mm256_and_si256(_mm256_cmpgt_epi32(remainder, threshold), one);
  return _mm256_add_epi32(_mm256_srav_epi32(x, e), up);
}
inline __m256i multiply_by_multiplier(__m256i x, __m256i multiplier, __m256i right_shift) {
  return rounding_shift_right(doubling_high_mul(x, multiplier), right_shift);
}

// 8 bytes widened to int32, signed or unsigned.
template <bool kSigned>
inline __m256i load_widen(const uint8_t* p) {
  const __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
  return kSigned ? _mm256_cvtepi8_epi32(bytes) : _mm256_cvtepu8_epi32(bytes);
}

// The 8 int32 lanes (already in the 8-bit range) as bytes; `count` < 8 stores only those.
template <bool kSigned>
inline void store_narrow(uint8_t* p, __m256i v, int32_t count = kBlock) {
  const __m256i words = _mm256_permute4x64_epi64(_mm256_packs_epi32(v, v), 0x08);
  const __m128i low = _mm256_castsi256_si128(words);
  const __m128i bytes = kSigned ? _mm_packs_epi16(low, low) : _mm_packus_epi16(low, low);
  if (count >= kBlock) {
    _mm_storel_epi64(reinterpret_cast<__m128i*>(p), bytes);
  } else {
    alignas(16) uint8_t tmp[16];
    _mm_store_si128(reinterpret_cast<__m128i*>(tmp), bytes);
    std::memcpy(p, tmp, count);
  }
}

}  // namespace qseg::kernels::opt::avx2

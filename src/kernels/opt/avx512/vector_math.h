// AVX-512 helpers shared by the AVX-512 kernels: TFLite's fixed-point requantization and
// XNNPACK's float one on 16 int32 lanes, bit-exact with quant/quant.h, and 8-bit loads/stores.
// Included only by files compiled for AVX-512.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "kernels/opt/optimized.h"

namespace qseg::kernels::opt::avx512 {

// gemmlowp's SaturatingRoundingDoublingHighMul for multipliers m > 0 (never INT32_MIN, so the
// saturating case cannot occur): (x * m + 2^30) >> 31 with a floor shift. That floor equals
// gemmlowp's truncating division of (x * m + nudge) for both signs of the product.
inline __m512i doubling_high_mul(__m512i x, __m512i m) {
  const __m512i nudge = _mm512_set1_epi64(int64_t{1} << 30);
  const __m512i even = _mm512_add_epi64(_mm512_mul_epi32(x, m), nudge);
  const __m512i odd =
      _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(x, 32), _mm512_srli_epi64(m, 32)), nudge);
  // Bits 31..62 of each 64-bit product: the low half of even >> 31, the high half of odd << 1.
  return _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(even, 31), _mm512_slli_epi64(odd, 1));
}

// gemmlowp's RoundingDivideByPOT with per-lane exponents 0..31: x / 2^e rounded half away
// from zero.
inline __m512i rounding_shift_right(__m512i x, __m512i e) {
  const __m512i one = _mm512_set1_epi32(1);
  const __m512i mask = _mm512_sub_epi32(_mm512_sllv_epi32(one, e), one);
  const __m512i remainder = _mm512_and_si512(x, mask);
  const __m512i threshold = _mm512_add_epi32(_mm512_srli_epi32(mask, 1), _mm512_srli_epi32(x, 31));
  const __mmask16 up = _mm512_cmpgt_epi32_mask(remainder, threshold);
  return _mm512_mask_add_epi32(_mm512_srav_epi32(x, e), up, _mm512_srav_epi32(x, e), one);
}

// The per-channel requantization of one block of 16 channels, loaded once per block.
struct BlockRequantization {
  __m512i multiplier[2], nudge[2], shift[2], correction[2];  // even lanes, odd lanes (64-bit)
  __m512 scale;
  __m512i offset;
  __m512i low, high;     // fixed point: range - offset, in int32
  __m512 low_f, high_f;  // float: the same in float
  bool fixed_point;
  bool correct_negatives;
};

[[gnu::always_inline]] inline BlockRequantization load_block_requantization(
    const ChannelRequantization& r, int32_t first_channel) {
  BlockRequantization b;
  b.fixed_point = r.fixed_point;
  b.correct_negatives = !r.clamps_negatives;
  for (int half = 0; half < 2; ++half) {
    const size_t at = static_cast<size_t>(first_channel) + 8 * half;
    b.multiplier[half] = _mm512_loadu_si512(r.lanes16.multiplier.data() + at);
    b.nudge[half] = _mm512_loadu_si512(r.lanes16.nudge.data() + at);
    b.shift[half] = _mm512_loadu_si512(r.lanes16.shift.data() + at);
    b.correction[half] = _mm512_loadu_si512(r.lanes16.correction.data() + at);
  }
  b.scale = _mm512_loadu_ps(r.scale.data() + first_channel);
  b.offset = _mm512_set1_epi32(r.output_offset);
  b.low = _mm512_set1_epi32(r.min - r.output_offset);
  b.high = _mm512_set1_epi32(r.max - r.output_offset);
  b.low_f = _mm512_set1_ps(static_cast<float>(r.min - r.output_offset));
  b.high_f = _mm512_set1_ps(static_cast<float>(r.max - r.output_offset));
  return b;
}

// TFLite's double rounding for 8 channels in 64-bit lanes (see ChannelRequantization); x holds
// the accumulators in the low half of each lane.
[[gnu::always_inline]] inline __m512i fixed_point_lanes(__m512i x, const BlockRequantization& b,
                                                        int half) {
  const __m512i p = _mm512_mul_epi32(x, b.multiplier[half]);
  __m512i sum = _mm512_add_epi64(p, b.nudge[half]);
  if (b.correct_negatives) {
    const __mmask8 negative = _mm512_cmplt_epi64_mask(p, _mm512_set1_epi64(-(int64_t{1} << 30)));
    sum = _mm512_mask_sub_epi64(sum, negative, sum, b.correction[half]);
  }
  return _mm512_srav_epi64(sum, b.shift[half]);
}

// Requantized outputs (in the activation range) of 16 accumulators. Clamping to range - offset
// before adding the offset equals TFLite's clamp of the 64-bit sum, without overflow.
[[gnu::always_inline]] inline __m512i requantize(__m512i acc, const BlockRequantization& b) {
  if (b.fixed_point) {
    const __m512i even = fixed_point_lanes(acc, b, 0);
    const __m512i odd = fixed_point_lanes(_mm512_srli_epi64(acc, 32), b, 1);
    __m512i v = _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
    v = _mm512_min_epi32(_mm512_max_epi32(v, b.low), b.high);
    return _mm512_add_epi32(v, b.offset);
  }
  __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), b.scale);
  v = _mm512_min_ps(_mm512_max_ps(v, b.low_f), b.high_f);
  return _mm512_add_epi32(_mm512_cvtps_epi32(v), b.offset);  // MXCSR: nearest, ties to even
}

// requantize without the final clamp (the offset added): for outputs whose activation range is
// the whole 8-bit range, where the saturating packs of store_four_blocks clamp instead.
[[gnu::always_inline]] inline __m512i requantize_unclamped(__m512i acc,
                                                           const BlockRequantization& b) {
  if (b.fixed_point) {
    const __m512i even = fixed_point_lanes(acc, b, 0);
    const __m512i odd = fixed_point_lanes(_mm512_srli_epi64(acc, 32), b, 1);
    return _mm512_add_epi32(_mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32)),
                            b.offset);
  }
  return requantize(acc, b);  // float: clamped in float before the conversion
}

// 64 outputs (4 blocks of 16 channels) saturated to uint8 or int8 and stored in channel order:
// the packs interleave the blocks per 128-bit lane; one dword permutation restores the order.
template <bool kSigned>
inline void store_four_blocks(uint8_t* p, __m512i v0, __m512i v1, __m512i v2, __m512i v3) {
  const __m512i words01 = _mm512_packs_epi32(v0, v1);
  const __m512i words23 = _mm512_packs_epi32(v2, v3);
  const __m512i bytes =
      kSigned ? _mm512_packs_epi16(words01, words23) : _mm512_packus_epi16(words01, words23);
  // Dword 4L + s holds block s's channels 4L..4L+3; put it at 4s + L.
  const __m512i order = _mm512_set_epi32(15, 11, 7, 3, 14, 10, 6, 2, 13, 9, 5, 1, 12, 8, 4, 0);
  _mm512_storeu_si512(p, _mm512_permutexvar_epi32(order, bytes));
}

// Fixed-point multiply by one scalar multiplier with a right shift (quant's
// multiply_by_quantized_multiplier when shift <= 0).
inline __m512i multiply_by_multiplier(__m512i x, __m512i multiplier, __m512i right_shift) {
  return rounding_shift_right(doubling_high_mul(x, multiplier), right_shift);
}

inline __mmask16 lane_mask(int32_t lanes) {
  return lanes >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << lanes) - 1u);
}

// 16 bytes (fewer under the mask) widened to int32, as signed or unsigned values.
template <bool kSigned>
inline __m512i load_widen(const uint8_t* p, __mmask16 mask) {
  const __m128i bytes = _mm_maskz_loadu_epi8(mask, p);
  return kSigned ? _mm512_cvtepi8_epi32(bytes) : _mm512_cvtepu8_epi32(bytes);
}

// Stores the low byte of each int32 lane (values already within the 8-bit range).
inline void store_narrow(uint8_t* p, __m512i v, __mmask16 mask) {
  _mm_mask_storeu_epi8(p, mask, _mm512_cvtepi32_epi8(v));
}

}  // namespace qseg::kernels::opt::avx512

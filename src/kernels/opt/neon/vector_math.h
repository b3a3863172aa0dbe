// NEON helpers shared by the NEON kernels: TFLite's fixed-point requantization and XNNPACK's
// float one on 4 int32 lanes, bit-exact with quant/quant.h, and 8- and 16-byte narrowing stores.
// Included only by files compiled for aarch64.
#pragma once

#include <arm_neon.h>

#include <cstdint>
#include <cstring>

#include "kernels/opt/optimized.h"

namespace qseg::kernels::opt::neon {

// gemmlowp's SaturatingRoundingDoublingHighMul is SQRDMULH exactly (round half up of x * m / 2^31,
// saturating the one overflow); RoundingDivideByPOT (half away from zero) is a rounding shift
// right (half up) after subtracting 1 from negative values. `negative_shift` holds -e <= 0; the
// fix-up is 0 where e == 0, since x & 0 has no sign bit.
inline int32x4_t multiply_by_multiplier(int32x4_t x, int32x4_t multiplier,
                                        int32x4_t negative_shift) {
  const int32x4_t high = vqrdmulhq_s32(x, multiplier);
  const int32x4_t fixup = vshrq_n_s32(vandq_s32(high, negative_shift), 31);
  return vrshlq_s32(vqaddq_s32(high, fixup), negative_shift);
}

// The requantization of 4 channels from `first_channel` of a ChannelRequantization.
struct QuadRequantization {
  int32x4_t multiplier, negative_shift;
  float32x4_t scale;
};
struct RequantizationBounds {
  int32x4_t offset, low, high;  // low and high: min and max minus the offset
  float32x4_t low_f, high_f;
  bool fixed_point;
  // min - offset >= 0: every negative value ends clamped to min whichever way it rounds, so the
  // fix-up for rounding negative halves away from zero is skipped.
  bool clamps_negatives;
};
inline RequantizationBounds load_bounds(const ChannelRequantization& r) {
  RequantizationBounds b;
  b.fixed_point = r.fixed_point;
  b.clamps_negatives = r.clamps_negatives;
  b.offset = vdupq_n_s32(r.output_offset);
  b.low = vdupq_n_s32(r.min - r.output_offset);
  b.high = vdupq_n_s32(r.max - r.output_offset);
  b.low_f = vdupq_n_f32(static_cast<float>(r.min - r.output_offset));
  b.high_f = vdupq_n_f32(static_cast<float>(r.max - r.output_offset));
  return b;
}
[[gnu::always_inline]] inline QuadRequantization load_quad(const ChannelRequantization& r,
                                                           int32_t first_channel) {
  QuadRequantization q;
  q.multiplier = vld1q_s32(r.multiplier.data() + first_channel);
  q.negative_shift = vld1q_s32(r.negative_shift.data() + first_channel);
  q.scale = vld1q_f32(r.scale.data() + first_channel);
  return q;
}

// Accumulators to output units, clamped to the activation range (still int32).
[[gnu::always_inline]] inline int32x4_t requantize(int32x4_t acc, const QuadRequantization& q,
                                                   const RequantizationBounds& b) {
  if (b.fixed_point) {
    const int32x4_t v =
        b.clamps_negatives
            ? vrshlq_s32(vqrdmulhq_s32(acc, q.multiplier), q.negative_shift)
            : multiply_by_multiplier(acc, q.multiplier, q.negative_shift);
    return vaddq_s32(vminq_s32(vmaxq_s32(v, b.low), b.high), b.offset);
  }
  float32x4_t v = vmulq_f32(vcvtq_f32_s32(acc), q.scale);
  v = vminq_f32(vmaxq_f32(v, b.low_f), b.high_f);
  return vaddq_s32(vcvtnq_s32_f32(v), b.offset);  // nearest, ties to even
}

// Lanes already in the 8-bit range, narrowed to bytes.
template <bool kSigned>
inline uint8x8_t narrow8(int32x4_t low, int32x4_t high) {
  const int16x8_t words = vcombine_s16(vqmovn_s32(low), vqmovn_s32(high));
  return kSigned ? vreinterpret_u8_s8(vqmovn_s16(words)) : vqmovun_s16(words);
}
template <bool kSigned>
inline uint8x16_t narrow16(int32x4_t a, int32x4_t b, int32x4_t c, int32x4_t d) {
  return vcombine_u8(narrow8<kSigned>(a, b), narrow8<kSigned>(c, d));
}
// The first `count` (<= 16) bytes of v.
inline void store_partial(uint8_t* p, uint8x16_t v, int32_t count) {
  if (count >= 16) {
    vst1q_u8(p, v);
    return;
  }
  uint8_t tmp[16];
  vst1q_u8(tmp, v);
  std::memcpy(p, tmp, static_cast<size_t>(count));
}

// 8 bytes widened to int16, signed or not.
template <bool kSigned>
inline int16x8_t load_widen8(const uint8_t* p) {
  return kSigned ? vmovl_s8(vld1_s8(reinterpret_cast<const int8_t*>(p)))
                 : vreinterpretq_s16_u16(vmovl_u8(vld1_u8(p)));
}

}  // namespace qseg::kernels::opt::neon

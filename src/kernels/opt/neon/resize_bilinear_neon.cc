// RESIZE_BILINEAR for uint8 and int8 on NEON, and fused with the ARG_MAX over channels: the same
// float operations in the same order as the reference (never contracted into FMA), rounded half
// away from zero (FCVTAS) after clamping, so bit-exact. The fused kernel keeps two planar rows
// (channel-major, scaled by the row weights) and produces blocks of 8 output columns, gathering
// each block's input columns from a window of 8 with TBL (see ResizeArgMaxPlan).
#include <arm_neon.h>

#include <algorithm>

#include "kernels/opt/neon/neon_kernels.h"
#include "kernels/opt/neon/vector_math.h"
#include "kernels/opt/optimized.h"

namespace qseg::kernels::opt::neon {

namespace {

constexpr int32_t kWidth = 8;  // output columns per fused block

// 8 bytes as two float32x4.
template <bool kSigned>
inline void load_float8(const uint8_t* p, float32x4_t* low, float32x4_t* high) {
  const int16x8_t x = load_widen8<kSigned>(p);
  *low = vcvtq_f32_s32(vmovl_s16(vget_low_s16(x)));
  *high = vcvtq_f32_s32(vmovl_high_s16(x));
}

inline int32x4_t round_clamp(float32x4_t v, float32x4_t low, float32x4_t high) {
  return vcvtaq_s32_f32(vminq_f32(vmaxq_f32(v, low), high));
}

template <bool kSigned>
void resize_rows(const ResizeBilinearParams& p, const uint8_t* input, uint8_t* output,
                 int64_t row_begin, int64_t row_end) {
  const int32_t in_h = p.input.height, in_w = p.input.width, channels = p.input.channels;
  const int32_t out_h = p.output.height, out_w = p.output.width;
  const float32x4_t low = vdupq_n_f32(static_cast<float>(p.range.min));
  const float32x4_t high = vdupq_n_f32(static_cast<float>(p.range.max));
  for (int64_t row = row_begin; row < row_end; ++row) {
    const auto batch = static_cast<int32_t>(row / out_h);
    const InterpolationTap& ty = p.rows[row % out_h];
    const float dy = ty.fraction, one_minus_dy = 1 - ty.fraction;
    const uint8_t* row0 = input + (int64_t{batch} * in_h + ty.lower) * in_w * channels;
    const uint8_t* row1 = input + (int64_t{batch} * in_h + ty.upper) * in_w * channels;
    uint8_t* out = output + row * out_w * channels;
    const float32x4_t vdy = vdupq_n_f32(dy), vdy1 = vdupq_n_f32(one_minus_dy);
    for (int32_t x = 0; x < out_w; ++x) {
      const InterpolationTap& tx = p.columns[x];
      const float dx = tx.fraction, one_minus_dx = 1 - tx.fraction;
      const int64_t lo = int64_t{tx.lower} * channels, up = int64_t{tx.upper} * channels;
      const float32x4_t vdx = vdupq_n_f32(dx), vdx1 = vdupq_n_f32(one_minus_dx);
      int32_t c = 0;
      for (; c + 8 <= channels; c += 8) {
        float32x4_t a[2], b[2], d[2], e[2];
        load_float8<kSigned>(row0 + lo + c, &a[0], &a[1]);
        load_float8<kSigned>(row1 + lo + c, &b[0], &b[1]);
        load_float8<kSigned>(row0 + up + c, &d[0], &d[1]);
        load_float8<kSigned>(row1 + up + c, &e[0], &e[1]);
        int32x4_t r[2];
        for (int h = 0; h < 2; ++h) {
          float32x4_t v = vmulq_f32(vmulq_f32(a[h], vdy1), vdx1);
          v = vaddq_f32(v, vmulq_f32(vmulq_f32(b[h], vdy), vdx1));
          v = vaddq_f32(v, vmulq_f32(vmulq_f32(d[h], vdy1), vdx));
          v = vaddq_f32(v, vmulq_f32(vmulq_f32(e[h], vdy), vdx));
          r[h] = round_clamp(v, low, high);
        }
        vst1_u8(out + int64_t{x} * channels + c, narrow8<kSigned>(r[0], r[1]));
      }
      for (; c < channels; ++c) out[int64_t{x} * channels + c] = resize_channel(p, row0, row1, ty, tx, c);
    }
  }
}

// TBL byte indices gathering lanes index[0..4) (each in [0, 8)) of a window of 8 floats.
inline uint8x16_t gather_indices(const int32_t* index) {
  const uint32x4_t lanes = vreinterpretq_u32_s32(vld1q_s32(index));
  const uint32x4_t bytes = vmlaq_n_u32(vdupq_n_u32(0x03020100u), lanes, 0x04040404u);
  return vreinterpretq_u8_u32(bytes);
}
inline float32x4_t gather(uint8x16x2_t window, uint8x16_t indices) {
  return vreinterpretq_f32_u8(vqtbl2q_u8(window, indices));
}
inline uint8x16x2_t load_window(const float* p) {
  uint8x16x2_t w;
  w.val[0] = vreinterpretq_u8_f32(vld1q_f32(p));
  w.val[1] = vreinterpretq_u8_f32(vld1q_f32(p + 4));
  return w;
}

template <typename Index>
void resize_arg_max_rows(const ResizeBilinearParams& p, const ResizeArgMaxPlan& plan,
                         const uint8_t* input, Index* output, int64_t row_begin, int64_t row_end,
                         float* planes) {
  const int32_t in_h = p.input.height, in_w = p.input.width, channels = p.input.channels;
  const int32_t out_h = p.output.height, out_w = p.output.width;
  const int32_t stride = plan.row_length;
  float* a0 = planes;
  float* a1 = planes + int64_t{channels} * stride;
  const float32x4_t low = vdupq_n_f32(static_cast<float>(p.range.min));
  const float32x4_t high = vdupq_n_f32(static_cast<float>(p.range.max));
  for (int64_t row = row_begin; row < row_end; ++row) {
    const auto batch = static_cast<int32_t>(row / out_h);
    const InterpolationTap& ty = p.rows[row % out_h];
    const uint8_t* row0 = input + (int64_t{batch} * in_h + ty.lower) * in_w * channels;
    const uint8_t* row1 = input + (int64_t{batch} * in_h + ty.upper) * in_w * channels;
    fill_planar_rows(p, plan, row0, row1, ty.fraction, a0, a1);
    Index* out = output + row * out_w;
    for (int32_t first = 0; first < out_w; first += kWidth) {
      const int32_t base = plan.block_base[first / kWidth];
      uint8x16_t lo[2], up[2];
      float32x4_t wx0[2], wx1[2];
      for (int h = 0; h < 2; ++h) {
        lo[h] = gather_indices(plan.lower_index.data() + first + 4 * h);
        up[h] = gather_indices(plan.upper_index.data() + first + 4 * h);
        wx0[h] = vld1q_f32(plan.one_minus_fraction.data() + first + 4 * h);
        wx1[h] = vld1q_f32(plan.fraction.data() + first + 4 * h);
      }
      int32x4_t best[2] = {vdupq_n_s32(0), vdupq_n_s32(0)};
      uint32x4_t best_index[2] = {vdupq_n_u32(0), vdupq_n_u32(0)};
      for (int32_t c = 0; c < channels; ++c) {
        const uint8x16x2_t r0 = load_window(a0 + int64_t{c} * stride + base);
        const uint8x16x2_t r1 = load_window(a1 + int64_t{c} * stride + base);
        const uint32x4_t channel = vdupq_n_u32(static_cast<uint32_t>(c));
        for (int h = 0; h < 2; ++h) {
          float32x4_t v = vmulq_f32(gather(r0, lo[h]), wx0[h]);
          v = vaddq_f32(v, vmulq_f32(gather(r1, lo[h]), wx0[h]));
          v = vaddq_f32(v, vmulq_f32(gather(r0, up[h]), wx1[h]));
          v = vaddq_f32(v, vmulq_f32(gather(r1, up[h]), wx1[h]));
          const int32x4_t q = round_clamp(v, low, high);
          if (c == 0) {
            best[h] = q;
            continue;
          }
          const uint32x4_t greater = vcgtq_s32(q, best[h]);  // ties keep the first channel
          best[h] = vmaxq_s32(best[h], q);
          best_index[h] = vbslq_u32(greater, channel, best_index[h]);
        }
      }
      const int32_t count = std::min(kWidth, out_w - first);
      uint32_t indices[kWidth];
      vst1q_u32(indices, best_index[0]);
      vst1q_u32(indices + 4, best_index[1]);
      for (int32_t i = 0; i < count; ++i) out[first + i] = static_cast<Index>(indices[i]);
    }
  }
}

}  // namespace

void resize_bilinear(const ResizeBilinearParams& p, const uint8_t* input, uint8_t* output,
                     int64_t row_begin, int64_t row_end) {
  if (p.type == DataType::kInt8) {
    resize_rows<true>(p, input, output, row_begin, row_end);
  } else {
    resize_rows<false>(p, input, output, row_begin, row_end);
  }
}

void resize_arg_max(const ResizeBilinearParams& p, const ArgMaxParams& a,
                    const ResizeArgMaxPlan& plan, const uint8_t* input, void* output,
                    int64_t row_begin, int64_t row_end) {
  alignas(16) float planes[kResizeArgMaxPlaneFloats];
  // Lanes past the input width are loaded (never selected): keep them defined.
  std::fill_n(planes, 2 * int64_t{p.input.channels} * plan.row_length, 0.0f);
  if (a.output_type == DataType::kInt32) {
    return resize_arg_max_rows(p, plan, input, static_cast<int32_t*>(output), row_begin, row_end,
                               planes);
  }
  resize_arg_max_rows(p, plan, input, static_cast<int64_t*>(output), row_begin, row_end, planes);
}

}  // namespace qseg::kernels::opt::neon

// RESIZE_BILINEAR for uint8 and int8 on AVX-512, and RESIZE_BILINEAR fused with the ARG_MAX over
// channels that ends DeepLab. Both evaluate the reference's float expression with the same
// operations in the same order (no contraction into FMA: these files build with
// -ffp-contract=off), round half away from zero and clamp, so they are bit-exact.
#include <immintrin.h>

#include <algorithm>

#include "kernels/opt/avx512/avx512_kernels.h"
#include "kernels/opt/avx512/vector_math.h"
#include "kernels/opt/optimized.h"

namespace qseg::kernels::opt::avx512 {

namespace {

// round_and_clamp: clamp to [low, high] (integers, so clamping first changes nothing), then
// round half away from zero exactly: trunc, and step away when the remainder reaches 0.5.
inline __m512 round_clamp(__m512 v, __m512 low, __m512 high) {
  v = _mm512_min_ps(_mm512_max_ps(v, low), high);
  const __m512 t = _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m512 r = _mm512_sub_ps(v, t);
  const __m512 one = _mm512_set1_ps(1.0f);
  __m512 out =
      _mm512_mask_add_ps(t, _mm512_cmp_ps_mask(r, _mm512_set1_ps(0.5f), _CMP_GE_OQ), t, one);
  out = _mm512_mask_sub_ps(out, _mm512_cmp_ps_mask(r, _mm512_set1_ps(-0.5f), _CMP_LE_OQ), out, one);
  return out;
}

template <bool kSigned>
inline __m512 load_float(const uint8_t* p, __mmask16 mask) {
  return _mm512_cvtepi32_ps(load_widen<kSigned>(p, mask));
}

template <bool kSigned>
void resize_rows(const ResizeBilinearParams& p, const uint8_t* input, uint8_t* output,
                 int64_t row_begin, int64_t row_end) {
  const int32_t in_h = p.input.height, in_w = p.input.width, channels = p.input.channels;
  const int32_t out_h = p.output.height, out_w = p.output.width;
  const __m512 low = _mm512_set1_ps(static_cast<float>(p.range.min));
  const __m512 high = _mm512_set1_ps(static_cast<float>(p.range.max));
  for (int64_t row = row_begin; row < row_end; ++row) {
    const auto batch = static_cast<int32_t>(row / out_h);
    const InterpolationTap& ty = p.rows[row % out_h];
    const __m512 dy = _mm512_set1_ps(ty.fraction);
    const __m512 one_minus_dy = _mm512_set1_ps(1 - ty.fraction);
    const uint8_t* row0 = input + (int64_t{batch} * in_h + ty.lower) * in_w * channels;
    const uint8_t* row1 = input + (int64_t{batch} * in_h + ty.upper) * in_w * channels;
    uint8_t* out = output + row * out_w * channels;
    for (int32_t x = 0; x < out_w; ++x) {
      const InterpolationTap& tx = p.columns[x];
      const __m512 dx = _mm512_set1_ps(tx.fraction);
      const __m512 one_minus_dx = _mm512_set1_ps(1 - tx.fraction);
      const int64_t lo = int64_t{tx.lower} * channels, up = int64_t{tx.upper} * channels;
      for (int32_t c = 0; c < channels; c += kChannelBlock) {
        const __mmask16 mask = lane_mask(channels - c);
        // p00 * (1 - dy) * (1 - dx) + p10 * dy * (1 - dx) + p01 * (1 - dy) * dx + p11 * dy * dx
        __m512 v = _mm512_mul_ps(
            _mm512_mul_ps(load_float<kSigned>(row0 + lo + c, mask), one_minus_dy), one_minus_dx);
        v = _mm512_add_ps(v,
                          _mm512_mul_ps(_mm512_mul_ps(load_float<kSigned>(row1 + lo + c, mask), dy),
                                        one_minus_dx));
        v = _mm512_add_ps(
            v, _mm512_mul_ps(_mm512_mul_ps(load_float<kSigned>(row0 + up + c, mask), one_minus_dy),
                             dx));
        v = _mm512_add_ps(
            v, _mm512_mul_ps(_mm512_mul_ps(load_float<kSigned>(row1 + up + c, mask), dy), dx));
        store_narrow(out + int64_t{x} * channels + c, _mm512_cvtps_epi32(round_clamp(v, low, high)),
                     mask);
      }
    }
  }
}

// Planar rows a0[c][x] = in(y0, x, c) * (1 - dy) and a1[c][x] = in(y1, x, c) * dy (the first
// product of each term of the reference expression), then per block of 16 output columns
//   v = a0[lo] * (1 - dx) + a1[lo] * (1 - dx) + a0[up] * dx + a1[up] * dx
// in the reference's order, and a running strict maximum over channels (ties keep the first).
// round_clamp for values known to lie in [0, qmax + 1/2) (uint8 inputs and weights in [0, 1]):
// no clamp and no negative half to round.
inline __m512 round_non_negative(__m512 v) {
  const __m512 t = _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __mmask16 up = _mm512_cmp_ps_mask(_mm512_sub_ps(v, t), _mm512_set1_ps(0.5f), _CMP_GE_OQ);
  return _mm512_mask_add_ps(t, up, t, _mm512_set1_ps(1.0f));
}

// The arg max of up to 32 channels as one float maximum: key = rounded * 32 + (31 - c) is exact
// (small integers), orders by value and then prefers the lower channel on ties, as the reference.
constexpr int32_t kKeyChannels = 32;

template <typename Index>
void resize_arg_max_rows(const ResizeBilinearParams& p, const ResizeArgMaxPlan& plan,
                         const uint8_t* input, Index* output, int64_t row_begin, int64_t row_end,
                         float* planes) {
  const int32_t in_h = p.input.height, in_w = p.input.width, channels = p.input.channels;
  const int32_t out_h = p.output.height, out_w = p.output.width;
  const int32_t stride = plan.row_length;
  float* a0 = planes;
  float* a1 = planes + int64_t{channels} * stride;
  const __m512 low = _mm512_set1_ps(static_cast<float>(p.range.min));
  const __m512 high = _mm512_set1_ps(static_cast<float>(p.range.max));
  for (int64_t row = row_begin; row < row_end; ++row) {
    const auto batch = static_cast<int32_t>(row / out_h);
    const InterpolationTap& ty = p.rows[row % out_h];
    const uint8_t* row0 = input + (int64_t{batch} * in_h + ty.lower) * in_w * channels;
    const uint8_t* row1 = input + (int64_t{batch} * in_h + ty.upper) * in_w * channels;
    fill_planar_rows(p, plan, row0, row1, ty.fraction, a0, a1);
    Index* out = output + row * out_w;
    for (int32_t first = 0; first < out_w; first += kChannelBlock) {
      const int32_t block = first / kChannelBlock;
      const int32_t base = plan.block_base[block];
      const __m512i lo = _mm512_loadu_si512(plan.lower_index.data() + first);
      const __m512i up = _mm512_loadu_si512(plan.upper_index.data() + first);
      const __m512 wx0 = _mm512_loadu_ps(plan.one_minus_fraction.data() + first);
      const __m512 wx1 = _mm512_loadu_ps(plan.fraction.data() + first);
      __m512 best = _mm512_setzero_ps();
      __m512i best_index = _mm512_setzero_si512();
      if (plan.non_negative && channels <= kKeyChannels) {
        __m512 best_key = _mm512_set1_ps(-1.0f);  // below every key (keys are >= 0)
        for (int32_t c = 0; c < channels; ++c) {
          const __m512 r0 = _mm512_loadu_ps(a0 + int64_t{c} * stride + base);
          const __m512 r1 = _mm512_loadu_ps(a1 + int64_t{c} * stride + base);
          __m512 v = _mm512_mul_ps(_mm512_permutexvar_ps(lo, r0), wx0);
          v = _mm512_add_ps(v, _mm512_mul_ps(_mm512_permutexvar_ps(lo, r1), wx0));
          v = _mm512_add_ps(v, _mm512_mul_ps(_mm512_permutexvar_ps(up, r0), wx1));
          v = _mm512_add_ps(v, _mm512_mul_ps(_mm512_permutexvar_ps(up, r1), wx1));
          const __m512 key = _mm512_fmadd_ps(
              round_non_negative(v), _mm512_set1_ps(static_cast<float>(kKeyChannels)),
              _mm512_set1_ps(static_cast<float>(kKeyChannels - 1 - c)));
          best_key = _mm512_max_ps(best_key, key);
        }
        best_index = _mm512_sub_epi32(
            _mm512_set1_epi32(kKeyChannels - 1),
            _mm512_and_si512(_mm512_cvtps_epi32(best_key), _mm512_set1_epi32(kKeyChannels - 1)));
      }
      for (int32_t c = 0; c < channels && !(plan.non_negative && channels <= kKeyChannels); ++c) {
        const __m512 r0 = _mm512_loadu_ps(a0 + int64_t{c} * stride + base);
        const __m512 r1 = _mm512_loadu_ps(a1 + int64_t{c} * stride + base);
        __m512 v = _mm512_mul_ps(_mm512_permutexvar_ps(lo, r0), wx0);
        v = _mm512_add_ps(v, _mm512_mul_ps(_mm512_permutexvar_ps(lo, r1), wx0));
        v = _mm512_add_ps(v, _mm512_mul_ps(_mm512_permutexvar_ps(up, r0), wx1));
        v = _mm512_add_ps(v, _mm512_mul_ps(_mm512_permutexvar_ps(up, r1), wx1));
        v = round_clamp(v, low, high);
        if (c == 0) {
          best = v;
          continue;
        }
        const __mmask16 greater = _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ);
        best = _mm512_mask_mov_ps(best, greater, v);
        best_index = _mm512_mask_mov_epi32(best_index, greater, _mm512_set1_epi32(c));
      }
      const int32_t count = std::min(kChannelBlock, out_w - first);
      alignas(64) int32_t indices[kChannelBlock];
      _mm512_store_si512(indices, best_index);
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

// The planar rows live on the stack: the fused kernel is created only when
// 2 * channels * row_length floats fit kResizeArgMaxPlaneFloats.
void resize_arg_max(const ResizeBilinearParams& p, const ArgMaxParams& a,
                    const ResizeArgMaxPlan& plan, const uint8_t* input, void* output,
                    int64_t row_begin, int64_t row_end) {
  alignas(64) float planes[kResizeArgMaxPlaneFloats];
  // Lanes past the input width are loaded (never selected): keep them defined.
  std::fill_n(planes, 2 * int64_t{p.input.channels} * plan.row_length, 0.0f);
  if (a.output_type == DataType::kInt32) {
    return resize_arg_max_rows(p, plan, input, static_cast<int32_t*>(output), row_begin, row_end,
                               planes);
  }
  resize_arg_max_rows(p, plan, input, static_cast<int64_t*>(output), row_begin, row_end, planes);
}

}  // namespace qseg::kernels::opt::avx512

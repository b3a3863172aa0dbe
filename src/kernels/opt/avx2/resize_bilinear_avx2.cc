// RESIZE_BILINEAR for uint8 and int8 on AVX2, and fused with the ARG_MAX over channels: the same
// float operations in the same order as the reference (built with -ffp-contract=off), rounded
// half away from zero and clamped, so bit-exact. See the AVX-512 file for the fused scheme; here
// blocks are 8 output columns wide.
#include <immintrin.h>

#include <algorithm>

#include "kernels/opt/avx2/avx2_kernels.h"
#include "kernels/opt/avx2/vector_math.h"
#include "kernels/opt/optimized.h"

namespace qseg::kernels::opt::avx2 {

namespace {

inline __m256 round_clamp(__m256 v, __m256 low, __m256 high) {
  v = _mm256_min_ps(_mm256_max_ps(v, low), high);
  const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m256 r = _mm256_sub_ps(v, t);
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 up = _mm256_and_ps(_mm256_cmp_ps(r, _mm256_set1_ps(0.5f), _CMP_GE_OQ), one);
  const __m256 down = _mm256_and_ps(_mm256_cmp_ps(r, _mm256_set1_ps(-0.5f), _CMP_LE_OQ), one);
  return _mm256_sub_ps(_mm256_add_ps(t, up), down);
}

template <bool kSigned>
inline float value(const uint8_t* p, int64_t i) {
  return kSigned ? static_cast<float>(static_cast<int8_t>(p[i])) : static_cast<float>(p[i]);
}

template <bool kSigned>
inline __m256 load_float(const uint8_t* p) {
  return _mm256_cvtepi32_ps(load_widen<kSigned>(p));
}

template <bool kSigned>
void resize_rows(const ResizeBilinearParams& p, const uint8_t* input, uint8_t* output,
                 int64_t row_begin, int64_t row_end) {
  const int32_t in_h = p.input.height, in_w = p.input.width, channels = p.input.channels;
  const int32_t out_h = p.output.height, out_w = p.output.width;
  const int32_t vector_channels = channels / kBlock * kBlock;
  const __m256 low = _mm256_set1_ps(static_cast<float>(p.range.min));
  const __m256 high = _mm256_set1_ps(static_cast<float>(p.range.max));
  for (int64_t row = row_begin; row < row_end; ++row) {
    const auto batch = static_cast<int32_t>(row / out_h);
    const InterpolationTap& ty = p.rows[row % out_h];
    const float dy = ty.fraction, one_minus_dy = 1 - ty.fraction;
    const uint8_t* row0 = input + (int64_t{batch} * in_h + ty.lower) * in_w * channels;
    const uint8_t* row1 = input + (int64_t{batch} * in_h + ty.upper) * in_w * channels;
    uint8_t* out = output + row * out_w * channels;
    for (int32_t x = 0; x < out_w; ++x) {
      const InterpolationTap& tx = p.columns[x];
      const float dx = tx.fraction, one_minus_dx = 1 - tx.fraction;
      const int64_t lo = int64_t{tx.lower} * channels, up = int64_t{tx.upper} * channels;
      const __m256 vdy = _mm256_set1_ps(dy), vdy1 = _mm256_set1_ps(one_minus_dy);
      const __m256 vdx = _mm256_set1_ps(dx), vdx1 = _mm256_set1_ps(one_minus_dx);
      for (int32_t c = 0; c < vector_channels; c += kBlock) {
        __m256 v = _mm256_mul_ps(_mm256_mul_ps(load_float<kSigned>(row0 + lo + c), vdy1), vdx1);
        v = _mm256_add_ps(
            v, _mm256_mul_ps(_mm256_mul_ps(load_float<kSigned>(row1 + lo + c), vdy), vdx1));
        v = _mm256_add_ps(
            v, _mm256_mul_ps(_mm256_mul_ps(load_float<kSigned>(row0 + up + c), vdy1), vdx));
        v = _mm256_add_ps(
            v, _mm256_mul_ps(_mm256_mul_ps(load_float<kSigned>(row1 + up + c), vdy), vdx));
        store_narrow<kSigned>(out + int64_t{x} * channels + c,
                              _mm256_cvtps_epi32(round_clamp(v, low, high)));
      }
      for (int32_t c = vector_channels; c < channels; ++c) {
        out[int64_t{x} * channels + c] = resize_channel(p, row0, row1, ty, tx, c);
      }
    }
  }
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
  const __m256 low = _mm256_set1_ps(static_cast<float>(p.range.min));
  const __m256 high = _mm256_set1_ps(static_cast<float>(p.range.max));
  for (int64_t row = row_begin; row < row_end; ++row) {
    const auto batch = static_cast<int32_t>(row / out_h);
    const InterpolationTap& ty = p.rows[row % out_h];
    const uint8_t* row0 = input + (int64_t{batch} * in_h + ty.lower) * in_w * channels;
    const uint8_t* row1 = input + (int64_t{batch} * in_h + ty.upper) * in_w * channels;
    fill_planar_rows(p, plan, row0, row1, ty.fraction, a0, a1);
    Index* out = output + row * out_w;
    for (int32_t first = 0; first < out_w; first += kBlock) {
      const int32_t base = plan.block_base[first / kBlock];
      const __m256i lo = load256(plan.lower_index.data() + first);
      const __m256i up = load256(plan.upper_index.data() + first);
      const __m256 wx0 = _mm256_loadu_ps(plan.one_minus_fraction.data() + first);
      const __m256 wx1 = _mm256_loadu_ps(plan.fraction.data() + first);
      __m256 best = _mm256_setzero_ps();
      __m256i best_index = _mm256_setzero_si256();
      for (int32_t c = 0; c < channels; ++c) {
        const __m256 r0 = _mm256_loadu_ps(a0 + int64_t{c} * stride + base);
        const __m256 r1 = _mm256_loadu_ps(a1 + int64_t{c} * stride + base);
        __m256 v = _mm256_mul_ps(_mm256_permutevar8x32_ps(r0, lo), wx0);
        v = _mm256_add_ps(v, _mm256_mul_ps(_mm256_permutevar8x32_ps(r1, lo), wx0));
        v = _mm256_add_ps(v, _mm256_mul_ps(_mm256_permutevar8x32_ps(r0, up), wx1));
        v = _mm256_add_ps(v, _mm256_mul_ps(_mm256_permutevar8x32_ps(r1, up), wx1));
        v = round_clamp(v, low, high);
        if (c == 0) {
          best = v;
          continue;
        }
        const __m256 greater = _mm256_cmp_ps(v, best, _CMP_GT_OQ);
        best = _mm256_blendv_ps(best, v, greater);
        best_index =
            _mm256_blendv_epi8(best_index, _mm256_set1_epi32(c), _mm256_castps_si256(greater));
      }
      const int32_t count = std::min(kBlock, out_w - first);
      alignas(32) int32_t indices[kBlock];
      _mm256_store_si256(reinterpret_cast<__m256i*>(indices), best_index);
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
  alignas(32) float planes[kResizeArgMaxPlaneFloats];
  // Lanes past the input width are loaded (never selected): keep them defined.
  std::fill_n(planes, 2 * int64_t{p.input.channels} * plan.row_length, 0.0f);
  if (a.output_type == DataType::kInt32) {
    return resize_arg_max_rows(p, plan, input, static_cast<int32_t*>(output), row_begin, row_end,
                               planes);
  }
  resize_arg_max_rows(p, plan, input, static_cast<int64_t*>(output), row_begin, row_end, planes);
}

}  // namespace qseg::kernels::opt::avx2

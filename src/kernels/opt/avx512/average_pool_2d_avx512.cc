// AVERAGE_POOL_2D for uint8 and int8 on AVX-512: the window sums of 16 channels at a time in
// int32 (exact: prepare allows only windows whose sum fits), walked pixel by pixel so the input
// is read in order, then TFLite's rounding division per channel as in the reference.
#include <immintrin.h>

#include <algorithm>

#include "kernels/opt/avx512/avx512_kernels.h"
#include "kernels/opt/avx512/vector_math.h"
#include "kernels/opt/optimized.h"

namespace qseg::kernels::opt::avx512 {

namespace {

template <bool kSigned>
void pool_rows(const AveragePool2dParams& p, const uint8_t* input, uint8_t* output,
               int64_t row_begin, int64_t row_end) {
  const int32_t in_h = p.input.height, in_w = p.input.width, channels = p.input.channels;
  const int32_t out_h = p.output.height, out_w = p.output.width;
  alignas(64) int32_t sums[kMaxPoolChannels];
  for (int64_t row = row_begin; row < row_end; ++row) {
    const auto batch = static_cast<int32_t>(row / out_h);
    const auto out_y = static_cast<int32_t>(row % out_h);
    for (int32_t out_x = 0; out_x < out_w; ++out_x) {
      const PoolWindow window = pool_window(p, out_y, out_x);
      const int64_t count = window.count;
      for (int32_t c = 0; c < channels; c += kChannelBlock) {
        _mm512_store_si512(sums + c, _mm512_setzero_si512());
      }
      for (int32_t y = window.y_begin; y < window.y_end; ++y) {
        for (int32_t x = window.x_begin; x < window.x_end; ++x) {
          const uint8_t* pixel = input + ((int64_t{batch} * in_h + y) * in_w + x) * channels;
          for (int32_t c = 0; c < channels; c += kChannelBlock) {
            const __m512i v = load_widen<kSigned>(pixel + c, lane_mask(channels - c));
            _mm512_store_si512(sums + c, _mm512_add_epi32(_mm512_load_si512(sums + c), v));
          }
        }
      }
      uint8_t* out = output + (row * out_w + out_x) * channels;
      for (int32_t c = 0; c < channels; ++c) {
        const int64_t average = count > 0 ? quant::rounding_divide(sums[c], count) : 0;
        out[c] =
            static_cast<uint8_t>(quant::clamp(static_cast<int32_t>(average), p.activation_range));
      }
    }
  }
}

}  // namespace

void average_pool_2d(const AveragePool2dParams& p, const uint8_t* input, uint8_t* output,
                     int64_t row_begin, int64_t row_end) {
  if (p.type == DataType::kInt8) {
    pool_rows<true>(p, input, output, row_begin, row_end);
  } else {
    pool_rows<false>(p, input, output, row_begin, row_end);
  }
}

}  // namespace qseg::kernels::opt::avx512

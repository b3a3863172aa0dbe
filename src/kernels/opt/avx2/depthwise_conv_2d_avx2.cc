// DEPTHWISE_CONV_2D (depth multiplier 1) for uint8 and int8 on AVX2: 8 channels per vector,
// exact int32 products of the offset input and the offset weights; taps outside the image are
// skipped as in the reference, and channels past the last whole vector go one at a time.
#include <immintrin.h>

#include "kernels/opt/avx2/avx2_kernels.h"
#include "kernels/opt/avx2/vector_math.h"
#include "kernels/opt/optimized.h"

namespace qseg::kernels::opt::avx2 {

namespace {

template <bool kSigned>
void depthwise_rows(const DepthwiseConv2dParams& p, const PackedDepthwise& pd, const uint8_t* input,
                    uint8_t* output, int64_t row_begin, int64_t row_end, int64_t output_row_base) {
  const Window2d& w = p.window;
  const int32_t in_h = p.input.height, in_w = p.input.width, channels = p.input.channels;
  const int32_t out_h = p.output.height, out_w = p.output.width;
  const int32_t vector_channels = channels / kBlock * kBlock;
  const __m256i input_offset = _mm256_set1_epi32(pd.input_offset);
  for (int64_t row = row_begin; row < row_end; ++row) {
    const auto batch = static_cast<int32_t>(row / out_h);
    const auto out_y = static_cast<int32_t>(row % out_h);
    const int32_t in_y0 = out_y * w.stride_h - w.pad_top;
    const TapRange ty = valid_taps(in_y0, w.dilation_h, w.filter_h, in_h);
    const uint8_t* image = input + int64_t{batch} * in_h * in_w * channels;
    uint8_t* out = output + (row - output_row_base) * out_w * channels;
    for (int32_t out_x = 0; out_x < out_w; ++out_x) {
      const int32_t in_x0 = out_x * w.stride_w - w.pad_left;
      const TapRange tx = valid_taps(in_x0, w.dilation_w, w.filter_w, in_w);
      const uint8_t* origin = image + (int64_t{in_y0} * in_w + in_x0) * channels;
      for (int32_t c = 0; c < vector_channels; c += kBlock) {
        __m256i acc = load256(pd.bias.data() + c);
        for (int32_t fy = ty.first; fy < ty.last; ++fy) {
          for (int32_t fx = tx.first; fx < tx.last; ++fx) {
            const int64_t at =
                (int64_t{fy} * w.dilation_h * in_w + int64_t{fx} * w.dilation_w) * channels + c;
            const __m256i x = _mm256_add_epi32(load_widen<kSigned>(origin + at), input_offset);
            const __m256i k =
                load256(pd.weights.data() + int64_t{fy * w.filter_w + fx} * pd.channels_padded + c);
            acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(x, k));
          }
        }
        store_narrow<kSigned>(out + int64_t{out_x} * channels + c,
                              requantize(acc, load_block_requantization(pd.requant, c)));
      }
      for (int32_t c = vector_channels; c < channels; ++c) {
        out[int64_t{out_x} * channels + c] = depthwise_channel(p, pd, origin, ty, tx, c);
      }
    }
  }
}

}  // namespace

void depthwise_conv_2d(const DepthwiseConv2dParams& p, const PackedDepthwise& pd,
                       const uint8_t* input, uint8_t* output, int64_t row_begin, int64_t row_end,
                       int64_t output_row_base) {
  if (pd.is_signed) {
    depthwise_rows<true>(p, pd, input, output, row_begin, row_end, output_row_base);
  } else {
    depthwise_rows<false>(p, pd, input, output, row_begin, row_end, output_row_base);
  }
}

}  // namespace qseg::kernels::opt::avx2

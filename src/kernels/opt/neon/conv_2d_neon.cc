// CONV_2D for uint8 and int8 on NEON without the dot product: tiles of up to 4 output pixels by
// 16 output channels, the tile's rows (input pixels for 1x1 convolutions, im2col rows otherwise)
// widened to int16 and multiplied into int32 by the packed int16 weights with SMLAL by lane
// (ConvLayout::kWideColumns, see PackedConv).
#include <arm_neon.h>

#include <algorithm>

#include "kernels/opt/neon/neon_kernels.h"
#include "kernels/opt/neon/vector_math.h"
#include "kernels/opt/optimized.h"

namespace qseg::kernels::opt::neon {

namespace {

constexpr int kTileRows = 4;

// acc[0..3] (16 channels) += the weights of one k times lane L of a.
template <int L>
[[gnu::always_inline]] inline void multiply_lane(int32x4_t* acc, int16x8_t w0, int16x8_t w1,
                                                 int16x4_t a) {
  acc[0] = vmlal_lane_s16(acc[0], vget_low_s16(w0), a, L);
  acc[1] = vmlal_high_lane_s16(acc[1], w0, a, L);
  acc[2] = vmlal_lane_s16(acc[2], vget_low_s16(w1), a, L);
  acc[3] = vmlal_high_lane_s16(acc[3], w1, a, L);
}

template <int kRows>
void tile(const PackedConv& pc, const int16_t* const* rows, int32_t block,
          uint8_t* const* outputs) {
  const int16_t* w = pc.wide_weights.data() + int64_t{block} * pc.wide_k_padded * kChannelBlock;
  int32x4_t acc[kRows][4];
  for (int i = 0; i < kRows; ++i) {
    for (int j = 0; j < 4; ++j) acc[i][j] = vdupq_n_s32(0);
  }
  for (int32_t k = 0; k < pc.wide_k_padded; k += 4, w += 4 * kChannelBlock) {
    int16x4_t a[kRows];
    for (int i = 0; i < kRows; ++i) a[i] = vld1_s16(rows[i] + k);
    const int16x8_t w00 = vld1q_s16(w), w01 = vld1q_s16(w + 8);
    for (int i = 0; i < kRows; ++i) multiply_lane<0>(acc[i], w00, w01, a[i]);
    const int16x8_t w10 = vld1q_s16(w + 16), w11 = vld1q_s16(w + 24);
    for (int i = 0; i < kRows; ++i) multiply_lane<1>(acc[i], w10, w11, a[i]);
    const int16x8_t w20 = vld1q_s16(w + 32), w21 = vld1q_s16(w + 40);
    for (int i = 0; i < kRows; ++i) multiply_lane<2>(acc[i], w20, w21, a[i]);
    const int16x8_t w30 = vld1q_s16(w + 48), w31 = vld1q_s16(w + 56);
    for (int i = 0; i < kRows; ++i) multiply_lane<3>(acc[i], w30, w31, a[i]);
  }
  const int32_t first_channel = block * kChannelBlock;
  const int32_t count = std::min(kChannelBlock, pc.n - first_channel);
  const RequantizationBounds bounds = load_bounds(pc.requant);
  QuadRequantization quads[4];
  int32x4_t bias[4];
  for (int j = 0; j < 4; ++j) {
    quads[j] = load_quad(pc.requant, first_channel + 4 * j);
    bias[j] = vld1q_s32(pc.wide_bias.data() + first_channel + 4 * j);
  }
  for (int i = 0; i < kRows; ++i) {
    int32x4_t v[4];
    for (int j = 0; j < 4; ++j) v[j] = requantize(vaddq_s32(acc[i][j], bias[j]), quads[j], bounds);
    const uint8x16_t bytes = pc.is_signed ? narrow16<true>(v[0], v[1], v[2], v[3])
                                          : narrow16<false>(v[0], v[1], v[2], v[3]);
    store_partial(outputs[i] + first_channel, bytes, count);
  }
}

template <int kRows>
void tile_all_channels(const PackedConv& pc, const int16_t* const* rows, uint8_t* const* outputs) {
  for (int32_t block = 0; block < pc.n_blocks; ++block) tile<kRows>(pc, rows, block, outputs);
}

void run_tile(int rows_in_tile, const PackedConv& pc, const int16_t* const* rows,
              uint8_t* const* outputs) {
  switch (rows_in_tile) {
    case 4:
      return tile_all_channels<4>(pc, rows, outputs);
    case 3:
      return tile_all_channels<3>(pc, rows, outputs);
    case 2:
      return tile_all_channels<2>(pc, rows, outputs);
    default:
      return tile_all_channels<1>(pc, rows, outputs);
  }
}

// bytes[0, depth) widened into row, signed or not; zeros up to padded.
void widen(const uint8_t* bytes, int32_t depth, int32_t padded, bool is_signed, int16_t* row) {
  int32_t i = 0;
  if (is_signed) {
    for (; i + 8 <= depth; i += 8) vst1q_s16(row + i, load_widen8<true>(bytes + i));
  } else {
    for (; i + 8 <= depth; i += 8) vst1q_s16(row + i, load_widen8<false>(bytes + i));
  }
  for (; i < depth; ++i) {
    row[i] = is_signed ? static_cast<int16_t>(static_cast<int8_t>(bytes[i])) : bytes[i];
  }
  for (; i < padded; ++i) row[i] = 0;
}

}  // namespace

void conv_2d(const Conv2dParams& p, const PackedConv& pc, const uint8_t* input, uint8_t* output,
             int64_t pixel_begin, int64_t pixel_end) {
  alignas(16) uint8_t column[kMaxIm2colDepth];
  alignas(16) int16_t wide[kTileRows][kMaxIm2colDepth];
  const int16_t* rows[kTileRows];
  uint8_t* outputs[kTileRows];
  OutputPosition position(pixel_begin, p.output);
  for (int64_t first = pixel_begin; first < pixel_end; first += kTileRows) {
    const int count = static_cast<int>(std::min<int64_t>(kTileRows, pixel_end - first));
    for (int i = 0; i < count; ++i) {
      const int64_t pixel = first + i;
      const uint8_t* bytes = input + pixel * pc.k;
      if (!pc.direct) {
        im2col_rows(p, pc, input, &position, 1, pc.k, column, kMaxIm2colDepth);
        bytes = column;
      }
      widen(bytes, pc.k, pc.wide_k_padded, pc.is_signed, wide[i]);
      rows[i] = wide[i];
      outputs[i] = output + pixel * pc.n;
    }
    run_tile(count, pc, rows, outputs);
  }
}

}  // namespace qseg::kernels::opt::neon

// CONV_2D for uint8 and int8 with the ARMv8.2-A dot product instructions: tiles of up to 4
// output pixels by 16 output channels; UDOT (uint8) or SDOT (int8) multiplies 4 input bytes of a
// row by 4 weight bytes of each of 4 channels (ConvLayout::kDot, see PackedConv for the algebra).
// 1x1 stride-1 convolutions read the input pixels in place; others build the tile's im2col rows
// on the stack. Compiled with +dotprod: call only when the CPU reports it.
#include <arm_neon.h>

#include <algorithm>
#include <cstring>

#include "kernels/opt/neon/neon_kernels.h"
#include "kernels/opt/neon/vector_math.h"
#include "kernels/opt/optimized.h"

namespace qseg::kernels::opt::neon {

namespace {

constexpr int kTileRows = 4;

// acc += the 4 bytes of group L of a times each channel's 4 bytes in w, with the op's signedness.
// The int32 lanes wrap like the unsigned ones (see PackedConv).
template <bool kSigned, int L>
[[gnu::always_inline]] inline int32x4_t dot(int32x4_t acc, uint8x16_t w, uint8x16_t a) {
  if constexpr (kSigned) {
    return vdotq_laneq_s32(acc, vreinterpretq_s8_u8(w), vreinterpretq_s8_u8(a), L);
  } else {
    return vreinterpretq_s32_u32(vdotq_laneq_u32(vreinterpretq_u32_s32(acc), w, a, L));
  }
}

template <bool kSigned, int kRows, int L>
[[gnu::always_inline]] inline void group(int32x4_t (*acc)[4], const int8_t* w,
                                         const uint8x16_t* a) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(w);
  const uint8x16_t w0 = vld1q_u8(bytes), w1 = vld1q_u8(bytes + 16);
  const uint8x16_t w2 = vld1q_u8(bytes + 32), w3 = vld1q_u8(bytes + 48);
  for (int i = 0; i < kRows; ++i) {
    acc[i][0] = dot<kSigned, L>(acc[i][0], w0, a[i]);
    acc[i][1] = dot<kSigned, L>(acc[i][1], w1, a[i]);
    acc[i][2] = dot<kSigned, L>(acc[i][2], w2, a[i]);
    acc[i][3] = dot<kSigned, L>(acc[i][3], w3, a[i]);
  }
}

template <bool kSigned, int kRows>
void tile(const PackedConv& pc, const uint8_t* const* rows, const int32_t* rowsums, int32_t block,
          uint8_t* const* outputs) {
  constexpr int64_t kGroupBytes = 4 * kChannelBlock;
  const int8_t* w = pc.weights.data() + int64_t{block} * pc.k_padded * kChannelBlock;
  int32x4_t acc[kRows][4];
  for (int i = 0; i < kRows; ++i) {
    for (int j = 0; j < 4; ++j) acc[i][j] = vdupq_n_s32(0);
  }
  int32_t k = 0;
  for (; k + 16 <= pc.k_padded; k += 16, w += 4 * kGroupBytes) {
    uint8x16_t a[kRows];
    for (int i = 0; i < kRows; ++i) a[i] = vld1q_u8(rows[i] + k);
    group<kSigned, kRows, 0>(acc, w, a);
    group<kSigned, kRows, 1>(acc, w + kGroupBytes, a);
    group<kSigned, kRows, 2>(acc, w + 2 * kGroupBytes, a);
    group<kSigned, kRows, 3>(acc, w + 3 * kGroupBytes, a);
  }
  for (; k < pc.k_padded; k += 4, w += kGroupBytes) {
    uint8x16_t a[kRows];
    for (int i = 0; i < kRows; ++i) {
      uint32_t four;
      std::memcpy(&four, rows[i] + k, sizeof four);
      a[i] = vreinterpretq_u8_u32(vdupq_n_u32(four));
    }
    group<kSigned, kRows, 0>(acc, w, a);
  }
  const int32_t first_channel = block * kChannelBlock;
  const int32_t count = std::min(kChannelBlock, pc.n - first_channel);
  const RequantizationBounds bounds = load_bounds(pc.requant);
  QuadRequantization quads[4];
  int32x4_t bias[4];
  for (int j = 0; j < 4; ++j) {
    quads[j] = load_quad(pc.requant, first_channel + 4 * j);
    bias[j] = vld1q_s32(pc.bias.data() + first_channel + 4 * j);
  }
  for (int i = 0; i < kRows; ++i) {
    // The rowsum term wraps like the accumulators.
    const int32x4_t rowsum_term = vdupq_n_s32(static_cast<int32_t>(
        static_cast<uint32_t>(rowsums[i]) * static_cast<uint32_t>(pc.rowsum_coefficient)));
    int32x4_t v[4];
    for (int j = 0; j < 4; ++j) {
      v[j] = requantize(vaddq_s32(vaddq_s32(acc[i][j], bias[j]), rowsum_term), quads[j], bounds);
    }
    store_partial(outputs[i] + first_channel, narrow16<kSigned>(v[0], v[1], v[2], v[3]), count);
  }
}

template <bool kSigned, int kRows>
void tile_all_channels(const PackedConv& pc, const uint8_t* const* rows, const int32_t* rowsums,
                       uint8_t* const* outputs) {
  for (int32_t block = 0; block < pc.n_blocks; ++block) {
    tile<kSigned, kRows>(pc, rows, rowsums, block, outputs);
  }
}

template <bool kSigned>
void run_tile(int rows_in_tile, const PackedConv& pc, const uint8_t* const* rows,
              const int32_t* rowsums, uint8_t* const* outputs) {
  switch (rows_in_tile) {
    case 4:
      return tile_all_channels<kSigned, 4>(pc, rows, rowsums, outputs);
    case 3:
      return tile_all_channels<kSigned, 3>(pc, rows, rowsums, outputs);
    case 2:
      return tile_all_channels<kSigned, 2>(pc, rows, rowsums, outputs);
    default:
      return tile_all_channels<kSigned, 1>(pc, rows, rowsums, outputs);
  }
}

// Sum of the first `length` bytes of a row (the uint8 rowsum term), 16 at a time by UDOT with
// ones.
int32_t byte_sum(const uint8_t* row, int32_t length) {
  uint32x4_t total = vdupq_n_u32(0);
  const uint8x16_t ones = vdupq_n_u8(1);
  int32_t i = 0;
  for (; i + 16 <= length; i += 16) total = vdotq_u32(total, vld1q_u8(row + i), ones);
  uint32_t sum = vaddvq_u32(total);
  for (; i < length; ++i) sum += row[i];
  return static_cast<int32_t>(sum);
}

}  // namespace

void conv_2d_dotprod(const Conv2dParams& p, const PackedConv& pc, const uint8_t* input,
                     uint8_t* output, int64_t pixel_begin, int64_t pixel_end) {
  alignas(16) uint8_t columns[kTileRows][kMaxIm2colDepth];
  const uint8_t* rows[kTileRows];
  uint8_t* outputs[kTileRows];
  int32_t rowsums[kTileRows] = {};
  OutputPosition position(pixel_begin, p.output);
  for (int64_t first = pixel_begin; first < pixel_end; first += kTileRows) {
    const int count = static_cast<int>(std::min<int64_t>(kTileRows, pixel_end - first));
    if (!pc.direct) {
      im2col_rows(p, pc, input, &position, count, pc.k_padded, columns[0], kMaxIm2colDepth);
    }
    for (int i = 0; i < count; ++i) {
      const int64_t pixel = first + i;
      rows[i] = pc.direct ? input + pixel * pc.k : columns[i];
      outputs[i] = output + pixel * pc.n;
      if (pc.rowsum_coefficient != 0) rowsums[i] = byte_sum(rows[i], pc.k);
    }
    if (pc.is_signed) {
      run_tile<true>(count, pc, rows, rowsums, outputs);
    } else {
      run_tile<false>(count, pc, rows, rowsums, outputs);
    }
  }
}

}  // namespace qseg::kernels::opt::neon

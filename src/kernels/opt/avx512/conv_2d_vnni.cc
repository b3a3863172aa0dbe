// CONV_2D for uint8 and int8 on AVX-512 VNNI: an int8 GEMM over tiles of up to 6 output pixels
// by 64 output channels, VPDPBUSD multiplying unsigned input bytes by the packed signed weights
// (see PackedConv for the algebra). 1x1 stride-1 convolutions read the input pixels in place;
// others build the tile's im2col rows on the stack.
#include <immintrin.h>

#include <cstring>

#include "kernels/opt/avx512/avx512_kernels.h"
#include "kernels/opt/avx512/vector_math.h"
#include "kernels/opt/optimized.h"

namespace qseg::kernels::opt::avx512 {

namespace {

constexpr int kTileRows = 6;    // output pixels per micro-kernel call
constexpr int kTileBlocks = 4;  // channel blocks of 16 per micro-kernel call

inline uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Sum of the first `length` bytes of a row (the uint8 rowsum term).
inline int32_t byte_sum(const uint8_t* row, int32_t length) {
  __m512i total = _mm512_setzero_si512();
  int32_t i = 0;
  for (; i + 64 <= length; i += 64) {
    total = _mm512_add_epi64(total,
                             _mm512_sad_epu8(_mm512_loadu_si512(row + i), _mm512_setzero_si512()));
  }
  if (i < length) {
    const __mmask64 mask = _bzhi_u64(~uint64_t{0}, static_cast<uint32_t>(length - i));
    total = _mm512_add_epi64(
        total, _mm512_sad_epu8(_mm512_maskz_loadu_epi8(mask, row + i), _mm512_setzero_si512()));
  }
  return static_cast<int32_t>(_mm512_reduce_add_epi64(total));
}

// Rows x (kBlocks * 16) accumulators of one tile, then requantized and stored.
template <int kRows, int kBlocks>
[[gnu::always_inline]] inline void tile(const PackedConv& pc, const uint8_t* const* rows,
                                        const int32_t* rowsums, int32_t first_block,
                                        uint8_t* const* outputs) {
  const int64_t block_stride = int64_t{pc.k_padded} * kChannelBlock;  // bytes per block
  const int8_t* w = pc.weights.data() + first_block * block_stride;
  const __m512i xor_mask = _mm512_set1_epi32(static_cast<int32_t>(pc.input_xor));
  __m512i acc[kRows][kBlocks];
  for (int i = 0; i < kRows; ++i) {
    for (int j = 0; j < kBlocks; ++j) acc[i][j] = _mm512_setzero_si512();
  }
  for (int32_t k = 0; k < pc.k_padded; k += 4) {
    __m512i b[kBlocks];
    for (int j = 0; j < kBlocks; ++j) b[j] = _mm512_loadu_si512(w + j * block_stride + k * 16);
    for (int i = 0; i < kRows; ++i) {
      const __m512i a = _mm512_xor_si512(
          _mm512_set1_epi32(static_cast<int32_t>(load_u32(rows[i] + k))), xor_mask);
      for (int j = 0; j < kBlocks; ++j) acc[i][j] = _mm512_dpbusd_epi32(acc[i][j], a, b[j]);
    }
  }
  if constexpr (kBlocks == 4) {
    // One packed 64-byte store per pixel (see store_four_blocks), when the range is the type's
    // and the four blocks are whole (50 channels make four blocks, the last partial: it is
    // stored masked below, or the store would run past the pixel and past the tensor).
    const int32_t first_channel = first_block * kChannelBlock;
    if (pc.requant.full_range && first_channel + 4 * kChannelBlock <= pc.n) {
      for (int j = 0; j < 4; ++j) {
        const BlockRequantization requant =
            load_block_requantization(pc.requant, first_channel + j * kChannelBlock);
        const __m512i bias = _mm512_loadu_si512(pc.bias.data() + first_channel + j * kChannelBlock);
        for (int i = 0; i < kRows; ++i) {
          const auto rowsum_term = static_cast<int32_t>(
              static_cast<uint32_t>(rowsums[i]) * static_cast<uint32_t>(pc.rowsum_coefficient));
          acc[i][j] = requantize_unclamped(
              _mm512_add_epi32(_mm512_add_epi32(acc[i][j], bias), _mm512_set1_epi32(rowsum_term)),
              requant);
        }
      }
      for (int i = 0; i < kRows; ++i) {
        if (pc.is_signed) {
          store_four_blocks<true>(outputs[i] + first_channel, acc[i][0], acc[i][1], acc[i][2],
                                  acc[i][3]);
        } else {
          store_four_blocks<false>(outputs[i] + first_channel, acc[i][0], acc[i][1], acc[i][2],
                                   acc[i][3]);
        }
      }
      return;
    }
  }
  for (int j = 0; j < kBlocks; ++j) {
    const int32_t block = first_block + j;
    const int32_t first_channel = block * kChannelBlock;
    const BlockRequantization requant = load_block_requantization(pc.requant, first_channel);
    const __m512i bias = _mm512_loadu_si512(pc.bias.data() + first_channel);
    const __mmask16 mask = lane_mask(pc.n - first_channel);
    for (int i = 0; i < kRows; ++i) {
      // The rowsum term wraps like the accumulators (see PackedConv).
      const auto rowsum_term = static_cast<int32_t>(static_cast<uint32_t>(rowsums[i]) *
                                                    static_cast<uint32_t>(pc.rowsum_coefficient));
      const __m512i total =
          _mm512_add_epi32(_mm512_add_epi32(acc[i][j], bias), _mm512_set1_epi32(rowsum_term));
      store_narrow(outputs[i] + first_channel, requantize(total, requant), mask);
    }
  }
}

template <int kRows>
void tile_all_channels(const PackedConv& pc, const uint8_t* const* rows, const int32_t* rowsums,
                       uint8_t* const* outputs) {
  int32_t block = 0;
  for (; block + kTileBlocks <= pc.n_blocks; block += kTileBlocks) {
    tile<kRows, kTileBlocks>(pc, rows, rowsums, block, outputs);
  }
  switch (pc.n_blocks - block) {
    case 3:
      return tile<kRows, 3>(pc, rows, rowsums, block, outputs);
    case 2:
      return tile<kRows, 2>(pc, rows, rowsums, block, outputs);
    case 1:
      return tile<kRows, 1>(pc, rows, rowsums, block, outputs);
    default:
      return;
  }
}

void run_tile(int rows_in_tile, const PackedConv& pc, const uint8_t* const* rows,
              const int32_t* rowsums, uint8_t* const* outputs) {
  switch (rows_in_tile) {
    case 6:
      return tile_all_channels<6>(pc, rows, rowsums, outputs);
    case 5:
      return tile_all_channels<5>(pc, rows, rowsums, outputs);
    case 4:
      return tile_all_channels<4>(pc, rows, rowsums, outputs);
    case 3:
      return tile_all_channels<3>(pc, rows, rowsums, outputs);
    case 2:
      return tile_all_channels<2>(pc, rows, rowsums, outputs);
    default:
      return tile_all_channels<1>(pc, rows, rowsums, outputs);
  }
}

}  // namespace

void conv_2d(const Conv2dParams& p, const PackedConv& pc, const uint8_t* input, uint8_t* output,
             int64_t pixel_begin, int64_t pixel_end) {
  alignas(64) uint8_t columns[kTileRows][kMaxIm2colDepth];
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
    }
    // After all rows are written: a wide load right behind the narrow stores that built a row
    // would wait for them (no store forwarding).
    if (pc.rowsum_coefficient != 0) {
      for (int i = 0; i < count; ++i) rowsums[i] = byte_sum(rows[i], pc.k);
    }
    run_tile(count, pc, rows, rowsums, outputs);
  }
}

}  // namespace qseg::kernels::opt::avx512

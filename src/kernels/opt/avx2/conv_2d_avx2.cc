// CONV_2D for uint8 and int8 on AVX2: tiles of up to 4 output pixels by 16 output channels,
// the tile's rows (input pixels for 1x1 convolutions, im2col rows otherwise) widened to int16
// and multiplied in pairs along k by the packed int16 weights with VPMADDWD (see PackedConv).
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels/opt/avx2/avx2_kernels.h"
#include "kernels/opt/avx2/vector_math.h"
#include "kernels/opt/optimized.h"

namespace qseg::kernels::opt::avx2 {

namespace {

constexpr int kTileRows = 4;

template <int kRows, int kBlocks>
inline void tile(const PackedConv& pc, const int16_t* const* rows, int32_t first_block,
                 uint8_t* const* outputs) {
  const int32_t pairs = pc.wide_k_padded / 2;
  const int64_t block_stride = int64_t{pairs} * 16;  // int16 values per block of 8 channels
  const int16_t* w = pc.wide_weights.data() + first_block * block_stride;
  __m256i acc[kRows][kBlocks];
  for (int i = 0; i < kRows; ++i) {
    for (int j = 0; j < kBlocks; ++j) acc[i][j] = _mm256_setzero_si256();
  }
  for (int32_t k = 0; k < pairs; ++k) {
    __m256i b[kBlocks];
    for (int j = 0; j < kBlocks; ++j) b[j] = load256(w + j * block_stride + k * 16);
    for (int i = 0; i < kRows; ++i) {
      int32_t pair;
      std::memcpy(&pair, rows[i] + 2 * k, sizeof pair);
      const __m256i a = _mm256_set1_epi32(pair);
      for (int j = 0; j < kBlocks; ++j) {
        acc[i][j] = _mm256_add_epi32(acc[i][j], _mm256_madd_epi16(a, b[j]));
      }
    }
  }
  for (int j = 0; j < kBlocks; ++j) {
    const int32_t first_channel = (first_block + j) * kBlock;
    const BlockRequantization requant = load_block_requantization(pc.requant, first_channel);
    const __m256i bias = load256(pc.wide_bias.data() + first_channel);
    const int32_t count = std::min(kBlock, pc.n - first_channel);
    for (int i = 0; i < kRows; ++i) {
      const __m256i v = requantize(_mm256_add_epi32(acc[i][j], bias), requant);
      if (pc.is_signed) {
        store_narrow<true>(outputs[i] + first_channel, v, count);
      } else {
        store_narrow<false>(outputs[i] + first_channel, v, count);
      }
    }
  }
}

template <int kRows>
void tile_all_channels(const PackedConv& pc, const int16_t* const* rows, uint8_t* const* outputs) {
  const int32_t blocks = (pc.n + kBlock - 1) / kBlock;
  int32_t block = 0;
  for (; block + 2 <= blocks; block += 2) tile<kRows, 2>(pc, rows, block, outputs);
  if (block < blocks) tile<kRows, 1>(pc, rows, block, outputs);
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
  for (; i + 16 <= depth; i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes + i));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(row + i),
                        is_signed ? _mm256_cvtepi8_epi16(v) : _mm256_cvtepu8_epi16(v));
  }
  for (; i < depth; ++i) {
    row[i] = is_signed ? static_cast<int16_t>(static_cast<int8_t>(bytes[i])) : bytes[i];
  }
  for (; i < padded; ++i) row[i] = 0;
}

}  // namespace

void conv_2d(const Conv2dParams& p, const PackedConv& pc, const uint8_t* input, uint8_t* output,
             int64_t pixel_begin, int64_t pixel_end) {
  alignas(32) uint8_t column[kMaxIm2colDepth];
  alignas(32) int16_t wide[kTileRows][kMaxIm2colDepth];
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

}  // namespace qseg::kernels::opt::avx2

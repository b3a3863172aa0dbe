// CONV_2D with AMX tiles for uint8 convolutions (1x1 ones read the input in place, others build
// 16 im2col rows at a time): blocks of 16 output
// pixels by 16 output channels accumulated by TDPBUSD (unsigned input bytes times the packed
// signed weights, whose [k/4][16][4] layout is already a B tile), stored, then finished by the
// AVX-512 epilogue (folded bias, row-sum term, requantization). Exact int32 sums as in the VNNI
// kernel, so bit-exact; pixels past the last whole block and other convolutions go to it.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels/opt/avx512/avx512_kernels.h"
#include "kernels/opt/avx512/vector_math.h"
#include "kernels/opt/optimized.h"

namespace qseg::kernels::opt::avx512 {

namespace {

constexpr int kRows = 16;       // pixels per tile
constexpr int kTileBytes = 64;  // bytes of depth per A tile row

// The tile registers: tmm0 the C accumulators, tmm1/tmm2 the A and B tiles of a whole 64-byte
// step, tmm3/tmm4 those of the depth's remainder; tmm5 the 16 row sums, accumulated from the same
// A tiles against a column of ones (tmm6, tmm7 for the remainder). (The tile intrinsics take
// literal register numbers.)
enum Tile {
  kC = 0,
  kA = 1,
  kB = 2,
  kATail = 3,
  kBTail = 4,
  kRowSums = 5,
  kOnes = 6,
  kOnesTail = 7
};

struct alignas(64) TileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t bytes_per_row[16] = {};
  uint8_t rows[16] = {};
};

TileConfig make_config(int32_t tail_bytes) {
  TileConfig c;
  const auto set = [&c](Tile t, int rows, int bytes) {
    c.rows[t] = static_cast<uint8_t>(rows);
    c.bytes_per_row[t] = static_cast<uint16_t>(bytes);
  };
  set(kC, kRows, kChannelBlock * 4);
  set(kA, kRows, kTileBytes);
  set(kB, kTileBytes / 4, kChannelBlock * 4);
  set(kRowSums, kRows, 4);
  set(kOnes, kTileBytes / 4, 4);
  if (tail_bytes > 0) {
    set(kATail, kRows, tail_bytes);
    set(kBTail, tail_bytes / 4, kChannelBlock * 4);
    set(kOnesTail, tail_bytes / 4, 4);
  }
  return c;
}

// tmm0 = the 16 x 16 int32 sums of pixel block `a` and channel block `block`.
inline void accumulate(const PackedConv& pc, const uint8_t* a, int64_t a_stride, int32_t block,
                       int32_t whole_steps, int32_t tail_bytes) {
  const int8_t* b = pc.weights.data() + int64_t{block} * pc.k_padded * kChannelBlock;
  _tile_zero(0);
  for (int32_t s = 0; s < whole_steps; ++s) {
    _tile_loadd(1, a + s * kTileBytes, a_stride);
    _tile_loadd(2, b + int64_t{s} * kTileBytes * kChannelBlock, kChannelBlock * 4);
    _tile_dpbusd(0, 1, 2);
  }
  if (tail_bytes > 0) {
    _tile_loadd(3, a + whole_steps * kTileBytes, a_stride);
    _tile_loadd(4, b + int64_t{whole_steps} * kTileBytes * kChannelBlock, kChannelBlock * 4);
    _tile_dpbusd(0, 3, 4);
  }
}

inline __m512i rowsum_term(const PackedConv& pc, int32_t rowsum) {
  // Wraps like the accumulators (see PackedConv).
  return _mm512_set1_epi32(static_cast<int32_t>(static_cast<uint32_t>(rowsum) *
                                                static_cast<uint32_t>(pc.rowsum_coefficient)));
}

// The epilogue of one channel block for the 16 pixels whose outputs start at `out`.
inline void finish_block(const PackedConv& pc, const int32_t (*sums)[kChannelBlock],
                         const int32_t* rowsums, int32_t block, uint8_t* out) {
  const int32_t first_channel = block * kChannelBlock;
  const BlockRequantization requant = load_block_requantization(pc.requant, first_channel);
  const __m512i bias = _mm512_loadu_si512(pc.bias.data() + first_channel);
  const __mmask16 mask = lane_mask(pc.n - first_channel);
  for (int i = 0; i < kRows; ++i) {
    const __m512i total = _mm512_add_epi32(_mm512_add_epi32(_mm512_load_si512(sums[i]), bias),
                                           rowsum_term(pc, rowsums[i]));
    store_narrow(out + int64_t{i} * pc.n + first_channel, requantize(total, requant), mask);
  }
}

// The same for four whole blocks at once, stored with saturating packs (full-range outputs).
inline void finish_four_blocks(const PackedConv& pc, const int32_t (*sums)[4 * kChannelBlock],
                               const int32_t* rowsums, int32_t block, uint8_t* out) {
  const int32_t first_channel = block * kChannelBlock;
  BlockRequantization requant[4];
  __m512i bias[4];
  for (int j = 0; j < 4; ++j) {
    requant[j] = load_block_requantization(pc.requant, first_channel + j * kChannelBlock);
    bias[j] = _mm512_loadu_si512(pc.bias.data() + first_channel + j * kChannelBlock);
  }
  for (int i = 0; i < kRows; ++i) {
    const __m512i term = rowsum_term(pc, rowsums[i]);
    __m512i v[4];
    for (int j = 0; j < 4; ++j) {
      const __m512i total = _mm512_add_epi32(
          _mm512_add_epi32(_mm512_load_si512(sums[i] + j * kChannelBlock), bias[j]), term);
      v[j] = requantize_unclamped(total, requant[j]);
    }
    store_four_blocks<false>(out + int64_t{i} * pc.n + first_channel, v[0], v[1], v[2], v[3]);
  }
}

}  // namespace

void conv_2d_amx(const Conv2dParams& p, const PackedConv& pc, const uint8_t* input, uint8_t* output,
                 int64_t pixel_begin, int64_t pixel_end) {
  if (pc.is_signed || pixel_end - pixel_begin < kRows) {
    return conv_2d(p, pc, input, output, pixel_begin, pixel_end);
  }
  // The A rows: the input pixels themselves (1x1), or 16 im2col rows built here.
  const int32_t depth = pc.direct ? pc.k : pc.k_padded;
  const int64_t a_stride = pc.direct ? pc.k : round_up(pc.k_padded, kTileBytes);
  const int32_t whole_steps = depth / kTileBytes;
  const int32_t tail_bytes = depth % kTileBytes;  // a multiple of 4 (k % 4 == 0 or padded)
  alignas(64) uint8_t columns[kRows * kMaxIm2colDepth];
  OutputPosition position(pixel_begin, p.output);
  const TileConfig config = make_config(tail_bytes);
  _tile_loadconfig(&config);
  alignas(64) int32_t sums[kRows][kChannelBlock];
  alignas(64) int32_t wide_sums[kRows][4 * kChannelBlock];
  alignas(64) int32_t rowsums[kRows];
  alignas(64) static constexpr int8_t kOnesColumn[kTileBytes] = {
      1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
      1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
      1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  _tile_loadd(6, kOnesColumn, 4);
  if (tail_bytes > 0) _tile_loadd(7, kOnesColumn, 4);
  int64_t first = pixel_begin;
  for (; first + kRows <= pixel_end; first += kRows) {
    const uint8_t* a = input + first * pc.k;
    if (!pc.direct) {
      im2col_rows(p, pc, input, &position, kRows, pc.k_padded, columns, a_stride);
      a = columns;
    }
    if (pc.rowsum_coefficient != 0) {
      _tile_zero(5);
      for (int32_t s = 0; s < whole_steps; ++s) {
        _tile_loadd(1, a + s * kTileBytes, a_stride);
        _tile_dpbusd(5, 1, 6);
      }
      if (tail_bytes > 0) {
        _tile_loadd(3, a + whole_steps * kTileBytes, a_stride);
        _tile_dpbusd(5, 3, 7);
      }
      _tile_stored(5, rowsums, 4);
    }
    int32_t block = 0;
    // Four whole blocks at a time when the range is the type's: one packed 64-byte store per
    // pixel (the blocks of 56 channels end with a partial one, stored masked below).
    if (pc.requant.full_range) {
      for (; (block + 4) * kChannelBlock <= pc.n; block += 4) {
        for (int j = 0; j < 4; ++j) {
          accumulate(pc, a, a_stride, block + j, whole_steps, tail_bytes);
          _tile_stored(0, &wide_sums[0][j * kChannelBlock], 4 * kChannelBlock * 4);
        }
        finish_four_blocks(pc, wide_sums, rowsums, block, output + first * pc.n);
      }
    }
    for (; block < pc.n_blocks; ++block) {
      accumulate(pc, a, a_stride, block, whole_steps, tail_bytes);
      _tile_stored(0, sums, kChannelBlock * 4);
      finish_block(pc, sums, rowsums, block, output + first * pc.n);
    }
  }
  _tile_release();
  if (first < pixel_end) conv_2d(p, pc, input, output, first, pixel_end);
}

}  // namespace qseg::kernels::opt::avx512

// DEPTHWISE_CONV_2D (depth multiplier 1) for uint8 and int8 on AVX-512: 16 channels per vector,
// exact int32 products, any filter size, stride and dilation. Each output row is walked one
// channel block at a time; outputs whose taps all fall inside the image (the interior) go four
// at a time with the block's weights held in registers and the input offset folded into the
// bias; the border outputs skip their outside taps as the reference does.
#include <immintrin.h>

#include <algorithm>

#include "kernels/opt/avx512/avx512_kernels.h"
#include "kernels/opt/avx512/vector_math.h"
#include "kernels/opt/optimized.h"

namespace qseg::kernels::opt::avx512 {

namespace {

constexpr int kMaxTaps = 25;  // the interior path keeps up to 5x5 weights in registers
constexpr int kGroup = 4;     // interior outputs computed together

// The first and one-past-last output columns whose taps are all inside the image.
inline TapRange interior_columns(const Window2d& w, int32_t in_w, int32_t out_w) {
  TapRange r{0, 0};
  const int32_t span = (w.filter_w - 1) * w.dilation_w;
  while (r.first < out_w && r.first * w.stride_w - w.pad_left < 0) ++r.first;
  r.last = r.first;
  while (r.last < out_w && r.last * w.stride_w - w.pad_left + span < in_w) ++r.last;
  return r;
}

template <bool kSigned>
struct Walker {
  const Window2d& w;
  const PackedDepthwise& pd;
  int32_t in_w, channels;

  // One output with the taps of ty x tx, offset applied per tap (borders).
  void border(const uint8_t* image, int32_t in_y0, TapRange ty, int32_t out_x, int32_t c,
              __mmask16 mask, const BlockRequantization& requant, uint8_t* out) const {
    const int32_t in_x0 = out_x * w.stride_w - w.pad_left;
    const TapRange tx = valid_taps(in_x0, w.dilation_w, w.filter_w, in_w);
    const __m512i input_offset = _mm512_set1_epi32(pd.input_offset);
    __m512i acc = _mm512_loadu_si512(pd.bias.data() + c);
    for (int32_t fy = ty.first; fy < ty.last; ++fy) {
      const uint8_t* in_row =
          image + (int64_t{in_y0 + fy * w.dilation_h} * in_w + in_x0) * channels + c;
      const int32_t* w_row = pd.weights.data() + int64_t{fy} * w.filter_w * pd.channels_padded + c;
      for (int32_t fx = tx.first; fx < tx.last; ++fx) {
        const __m512i x = _mm512_add_epi32(
            load_widen<kSigned>(in_row + int64_t{fx} * w.dilation_w * channels, mask),
            input_offset);
        acc = _mm512_add_epi32(
            acc,
            _mm512_mullo_epi32(x, _mm512_loadu_si512(w_row + int64_t{fx} * pd.channels_padded)));
      }
    }
    store_narrow(out + int64_t{out_x} * channels + c, requantize(acc, requant), mask);
  }

  // The 3x3, stride 1 interior as a window sliding along the row: each input column is widened
  // once as (row 0, row 1) int16 pairs and a (row 2, 0) single, and serves the three outputs
  // that read it; 6 VPDPWSSD per output against the column-paired weights. With dilation d the
  // outputs x, x + d, x + 2d, ... share columns: d interleaved passes.
  template <bool kFull>
  void interior_3x3(const uint8_t* image, int32_t in_y0, int32_t first, int32_t last, int32_t c,
                    __mmask16 mask, const BlockRequantization& requant, uint8_t* out) const {
    __m512i pair_w[3], single_w[3];
    for (int fx = 0; fx < 3; ++fx) {
      const int64_t at = (int64_t{fx} * pd.channels_padded + c) * 2;
      pair_w[fx] = _mm512_loadu_si512(pd.column_pair_weights.data() + at);
      single_w[fx] = _mm512_loadu_si512(pd.last_row_weights.data() + at);
    }
    const __m512i interleave =
        _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22, 6,
                         21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    const auto load16 = [mask](const uint8_t* p) {
      return kFull ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(p))
                   : _mm_maskz_loadu_epi8(mask, p);
    };
    const int32_t d = w.dilation_w;
    const int64_t row_bytes = int64_t{in_w} * channels * w.dilation_h;  // between filter rows
    const uint8_t* row0 = image + int64_t{in_y0} * in_w * channels + c;
    // Column x of the input: (row0, row1) pairs and (row2, 0).
    const auto column_pair = [&](int32_t x) {
      const uint8_t* p = row0 + int64_t{x} * channels;
      const __m256i both =
          _mm256_inserti128_si256(_mm256_castsi128_si256(load16(p)), load16(p + row_bytes), 1);
      return _mm512_permutexvar_epi16(
          interleave, kSigned ? _mm512_cvtepi8_epi16(both) : _mm512_cvtepu8_epi16(both));
    };
    const auto column_single = [&](int32_t x) {
      const __m128i v = load16(row0 + 2 * row_bytes + int64_t{x} * channels);
      return kSigned ? _mm512_cvtepi8_epi32(v) : _mm512_cvtepu8_epi32(v);
    };
    const __m512i bias = _mm512_loadu_si512(pd.interior_bias.data() + c);
    for (int32_t start = first; start < std::min(last, first + d); ++start) {
      const int32_t x0 =
          start - w.pad_left;  // input column of this pass's first output's first tap
      __m512i pair_a = column_pair(x0), pair_b = column_pair(x0 + d);
      __m512i single_a = column_single(x0), single_b = column_single(x0 + d);
      for (int32_t x = start; x < last; x += d) {
        const int32_t next = x - w.pad_left + 2 * d;
        const __m512i pair_c = column_pair(next);
        const __m512i single_c = column_single(next);
        __m512i acc = _mm512_dpwssd_epi32(bias, pair_a, pair_w[0]);
        acc = _mm512_dpwssd_epi32(acc, pair_b, pair_w[1]);
        acc = _mm512_dpwssd_epi32(acc, pair_c, pair_w[2]);
        acc = _mm512_dpwssd_epi32(acc, single_a, single_w[0]);
        acc = _mm512_dpwssd_epi32(acc, single_b, single_w[1]);
        acc = _mm512_dpwssd_epi32(acc, single_c, single_w[2]);
        store_narrow(out + int64_t{x} * channels + c, requantize(acc, requant), mask);
        pair_a = pair_b;
        pair_b = pair_c;
        single_a = single_b;
        single_b = single_c;
      }
    }
  }

  // Outputs [first, last) of a row whose filter rows are all inside the image and whose
  // columns are interior: raw inputs (the offset is in interior_bias), taps taken in pairs as
  // int16 (x_t, x_t+1) per channel against the paired weights with VPDPWSSD (two products of
  // at most 255 * 255 per lane: exact), kGroup outputs at a time with the weights in registers.
  template <bool kFull>
  void interior(const uint8_t* image, int32_t in_y0, int32_t first, int32_t last, int32_t c,
                __mmask16 mask, const BlockRequantization& requant, uint8_t* out) const {
    const int32_t taps = w.filter_h * w.filter_w;
    const int32_t pairs = (taps + 1) / 2;
    __m512i weights[(kMaxTaps + 1) / 2];
    int64_t offsets[kMaxTaps + 1];  // byte offset of each tap from the output's input origin
    for (int32_t fy = 0, t = 0; fy < w.filter_h; ++fy) {
      for (int32_t fx = 0; fx < w.filter_w; ++fx, ++t) {
        offsets[t] = (int64_t{fy} * w.dilation_h * in_w + int64_t{fx} * w.dilation_w) * channels;
      }
    }
    for (int32_t i = 0; i < pairs; ++i) {
      weights[i] =
          _mm512_loadu_si512(pd.pair_weights.data() + (int64_t{i} * pd.channels_padded + c) * 2);
    }
    // int16 lanes [x_t(c0..15) | x_t+1(c0..15)] -> [x_t(c0), x_t+1(c0), x_t(c1), ...].
    const __m512i interleave =
        _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22, 6,
                         21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    const auto load16 = [mask](const uint8_t* p) {
      return kFull ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(p))
                   : _mm_maskz_loadu_epi8(mask, p);
    };
    const auto pair_of = [&](const uint8_t* a, const uint8_t* b) {
      const __m256i both = _mm256_inserti128_si256(_mm256_castsi128_si256(load16(a)), load16(b), 1);
      const __m512i wide = kSigned ? _mm512_cvtepi8_epi16(both) : _mm512_cvtepu8_epi16(both);
      return _mm512_permutexvar_epi16(interleave, wide);
    };
    const auto single = [&](const uint8_t* a) {  // (x_t, 0) pairs: x widened to 32 bits
      return kSigned ? _mm512_cvtepi8_epi32(load16(a)) : _mm512_cvtepu8_epi32(load16(a));
    };
    const __m512i bias = _mm512_loadu_si512(pd.interior_bias.data() + c);
    const int64_t step = int64_t{w.stride_w} * channels;
    const uint8_t* row = image + int64_t{in_y0} * in_w * channels + c;
    int32_t x = first;
    for (; x + kGroup <= last; x += kGroup) {
      const uint8_t* origin = row + (int64_t{x} * w.stride_w - w.pad_left) * channels;
      __m512i acc[kGroup];
      for (int j = 0; j < kGroup; ++j) acc[j] = bias;
      int32_t t = 0;
      for (; t + 1 < taps; t += 2) {
        for (int j = 0; j < kGroup; ++j) {
          acc[j] = _mm512_dpwssd_epi32(
              acc[j], pair_of(origin + offsets[t] + j * step, origin + offsets[t + 1] + j * step),
              weights[t / 2]);
        }
      }
      if (t < taps) {
        for (int j = 0; j < kGroup; ++j) {
          acc[j] =
              _mm512_dpwssd_epi32(acc[j], single(origin + offsets[t] + j * step), weights[t / 2]);
        }
      }
      for (int j = 0; j < kGroup; ++j) {
        store_narrow(out + int64_t{x + j} * channels + c, requantize(acc[j], requant), mask);
      }
    }
    for (; x < last; ++x) {
      const uint8_t* origin = row + (int64_t{x} * w.stride_w - w.pad_left) * channels;
      __m512i acc = bias;
      int32_t t = 0;
      for (; t + 1 < taps; t += 2) {
        acc = _mm512_dpwssd_epi32(acc, pair_of(origin + offsets[t], origin + offsets[t + 1]),
                                  weights[t / 2]);
      }
      if (t < taps) acc = _mm512_dpwssd_epi32(acc, single(origin + offsets[t]), weights[t / 2]);
      store_narrow(out + int64_t{x} * channels + c, requantize(acc, requant), mask);
    }
  }
};

template <bool kSigned>
void depthwise_rows(const DepthwiseConv2dParams& p, const PackedDepthwise& pd, const uint8_t* input,
                    uint8_t* output, int64_t row_begin, int64_t row_end, int64_t output_row_base) {
  const Window2d& w = p.window;
  const int32_t in_h = p.input.height, in_w = p.input.width, channels = p.input.channels;
  const int32_t out_h = p.output.height, out_w = p.output.width;
  const Walker<kSigned> walker{w, pd, in_w, channels};
  const bool small_filter = w.filter_h * w.filter_w <= kMaxTaps;
  const TapRange columns = small_filter ? interior_columns(w, in_w, out_w) : TapRange{0, 0};
  const bool sliding =
      w.filter_h == 3 && w.filter_w == 3 && w.stride_w == 1 && !pd.column_pair_weights.empty();
  for (int64_t row = row_begin; row < row_end; ++row) {
    const auto batch = static_cast<int32_t>(row / out_h);
    const auto out_y = static_cast<int32_t>(row % out_h);
    const int32_t in_y0 = out_y * w.stride_h - w.pad_top;
    const TapRange ty = valid_taps(in_y0, w.dilation_h, w.filter_h, in_h);
    const bool full_rows = small_filter && ty.first == 0 && ty.last == w.filter_h;
    const uint8_t* image = input + int64_t{batch} * in_h * in_w * channels;
    uint8_t* out = output + (row - output_row_base) * out_w * channels;
    for (int32_t c = 0; c < channels; c += kChannelBlock) {
      const __mmask16 mask = lane_mask(channels - c);
      const BlockRequantization requant = load_block_requantization(pd.requant, c);
      if (!full_rows) {
        for (int32_t x = 0; x < out_w; ++x)
          walker.border(image, in_y0, ty, x, c, mask, requant, out);
        continue;
      }
      for (int32_t x = 0; x < columns.first; ++x) {
        walker.border(image, in_y0, ty, x, c, mask, requant, out);
      }
      if (sliding && channels - c >= kChannelBlock) {
        walker.template interior_3x3<true>(image, in_y0, columns.first, columns.last, c, mask,
                                           requant, out);
      } else if (sliding) {
        walker.template interior_3x3<false>(image, in_y0, columns.first, columns.last, c, mask,
                                            requant, out);
      } else if (channels - c >= kChannelBlock) {
        walker.template interior<true>(image, in_y0, columns.first, columns.last, c, mask, requant,
                                       out);
      } else {
        walker.template interior<false>(image, in_y0, columns.first, columns.last, c, mask, requant,
                                        out);
      }
      for (int32_t x = std::max(columns.last, columns.first); x < out_w; ++x) {
        walker.border(image, in_y0, ty, x, c, mask, requant, out);
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

}  // namespace qseg::kernels::opt::avx512

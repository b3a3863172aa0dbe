// DEPTHWISE_CONV_2D (depth multiplier 1) for uint8 and int8 on NEON: 16 (then 8) channels at a
// time, the input widened to int16 and multiplied into int32 by the int16 offset weights with
// SMLAL; taps outside the image are skipped as in the reference. Where every tap is inside the
// image the input offset is folded into the bias (PackedDepthwise::interior_bias) and the raw
// input is multiplied. Channels past the last vector go one at a time.
#include <arm_neon.h>

#include <algorithm>

#include "kernels/opt/neon/neon_kernels.h"
#include "kernels/opt/neon/vector_math.h"
#include "kernels/opt/optimized.h"

namespace qseg::kernels::opt::neon {

namespace {

struct Taps {
  TapRange y, x;
  int32_t dilation_h, dilation_w, filter_w;
  int64_t row_stride;  // bytes between input rows
};

template <bool kSigned, bool kOffset>
[[gnu::always_inline]] inline void channels16(const PackedDepthwise& pd, const Taps& t,
                                              const uint8_t* origin, int32_t channels, int32_t c,
                                              const RequantizationBounds& bounds, uint8_t* out) {
  const int32_t* bias = (kOffset ? pd.bias.data() : pd.interior_bias.data()) + c;
  int32x4_t acc0 = vld1q_s32(bias), acc1 = vld1q_s32(bias + 4);
  int32x4_t acc2 = vld1q_s32(bias + 8), acc3 = vld1q_s32(bias + 12);
  const int16x8_t offset = vdupq_n_s16(static_cast<int16_t>(pd.input_offset));
  for (int32_t fy = t.y.first; fy < t.y.last; ++fy) {
    for (int32_t fx = t.x.first; fx < t.x.last; ++fx) {
      const uint8_t* in =
          origin + fy * t.dilation_h * t.row_stride + int64_t{fx} * t.dilation_w * channels + c;
      int16x8_t x0 = load_widen8<kSigned>(in), x1 = load_widen8<kSigned>(in + 8);
      if constexpr (kOffset) {
        x0 = vaddq_s16(x0, offset);
        x1 = vaddq_s16(x1, offset);
      }
      const int16_t* w = pd.narrow_weights.data() +
                         int64_t{fy * t.filter_w + fx} * pd.channels_padded + c;
      const int16x8_t w0 = vld1q_s16(w), w1 = vld1q_s16(w + 8);
      acc0 = vmlal_s16(acc0, vget_low_s16(x0), vget_low_s16(w0));
      acc1 = vmlal_high_s16(acc1, x0, w0);
      acc2 = vmlal_s16(acc2, vget_low_s16(x1), vget_low_s16(w1));
      acc3 = vmlal_high_s16(acc3, x1, w1);
    }
  }
  const int32x4_t v0 = requantize(acc0, load_quad(pd.requant, c), bounds);
  const int32x4_t v1 = requantize(acc1, load_quad(pd.requant, c + 4), bounds);
  const int32x4_t v2 = requantize(acc2, load_quad(pd.requant, c + 8), bounds);
  const int32x4_t v3 = requantize(acc3, load_quad(pd.requant, c + 12), bounds);
  vst1q_u8(out + c, narrow16<kSigned>(v0, v1, v2, v3));
}

template <bool kSigned>
inline void channels8(const PackedDepthwise& pd, const Taps& t, const uint8_t* origin,
                      int32_t channels, int32_t c, const RequantizationBounds& bounds,
                      uint8_t* out) {
  int32x4_t acc0 = vld1q_s32(pd.bias.data() + c), acc1 = vld1q_s32(pd.bias.data() + c + 4);
  const int16x8_t offset = vdupq_n_s16(static_cast<int16_t>(pd.input_offset));
  for (int32_t fy = t.y.first; fy < t.y.last; ++fy) {
    for (int32_t fx = t.x.first; fx < t.x.last; ++fx) {
      const uint8_t* in =
          origin + fy * t.dilation_h * t.row_stride + int64_t{fx} * t.dilation_w * channels + c;
      const int16x8_t x = vaddq_s16(load_widen8<kSigned>(in), offset);
      const int16x8_t w = vld1q_s16(pd.narrow_weights.data() +
                                    int64_t{fy * t.filter_w + fx} * pd.channels_padded + c);
      acc0 = vmlal_s16(acc0, vget_low_s16(x), vget_low_s16(w));
      acc1 = vmlal_high_s16(acc1, x, w);
    }
  }
  const int32x4_t v0 = requantize(acc0, load_quad(pd.requant, c), bounds);
  const int32x4_t v1 = requantize(acc1, load_quad(pd.requant, c + 4), bounds);
  vst1_u8(out + c, narrow8<kSigned>(v0, v1));
}

// 16 channels from c of the output columns [x_first, x_last) of a row whose 3x3 windows lie
// inside the image: the 9 taps' weights stay in registers across the columns, the input offset
// is in the bias.
template <bool kSigned>
[[gnu::noinline]] void interior_3x3(const DepthwiseConv2dParams& p, const PackedDepthwise& pd, const Taps& t,
                  const uint8_t* input_row, int32_t x_first, int32_t x_last, int32_t c,
                  const RequantizationBounds& bounds, uint8_t* out_row) {
  const int32_t channels = p.input.channels;
  int16x8_t w[9][2];
  for (int tap = 0; tap < 9; ++tap) {
    const int16_t* at = pd.narrow_weights.data() + int64_t{tap} * pd.channels_padded + c;
    w[tap][0] = vld1q_s16(at);
    w[tap][1] = vld1q_s16(at + 8);
  }
  const int32_t* bias = pd.interior_bias.data() + c;
  const int64_t column_step = int64_t{t.dilation_w} * channels;
  const int64_t row_step = t.dilation_h * t.row_stride;
  for (int32_t x = x_first; x < x_last; ++x) {
    const uint8_t* origin =
        input_row + int64_t{x * p.window.stride_w - p.window.pad_left} * channels + c;
    int32x4_t acc0 = vld1q_s32(bias), acc1 = vld1q_s32(bias + 4);
    int32x4_t acc2 = vld1q_s32(bias + 8), acc3 = vld1q_s32(bias + 12);
#pragma GCC unroll 9
    for (int tap = 0; tap < 9; ++tap) {
      const uint8_t* in = origin + (tap / 3) * row_step + (tap % 3) * column_step;
      const int16x8_t x0 = load_widen8<kSigned>(in), x1 = load_widen8<kSigned>(in + 8);
      acc0 = vmlal_s16(acc0, vget_low_s16(x0), vget_low_s16(w[tap][0]));
      acc1 = vmlal_high_s16(acc1, x0, w[tap][0]);
      acc2 = vmlal_s16(acc2, vget_low_s16(x1), vget_low_s16(w[tap][1]));
      acc3 = vmlal_high_s16(acc3, x1, w[tap][1]);
    }
    const int32x4_t v0 = requantize(acc0, load_quad(pd.requant, c), bounds);
    const int32x4_t v1 = requantize(acc1, load_quad(pd.requant, c + 4), bounds);
    const int32x4_t v2 = requantize(acc2, load_quad(pd.requant, c + 8), bounds);
    const int32x4_t v3 = requantize(acc3, load_quad(pd.requant, c + 12), bounds);
    vst1q_u8(out_row + int64_t{x} * channels + c, narrow16<kSigned>(v0, v1, v2, v3));
  }
}

template <bool kSigned>
void depthwise_rows(const DepthwiseConv2dParams& p, const PackedDepthwise& pd, const uint8_t* input,
                    uint8_t* output, int64_t row_begin, int64_t row_end, int64_t output_row_base) {
  const Window2d& w = p.window;
  const int32_t in_h = p.input.height, in_w = p.input.width, channels = p.input.channels;
  const int32_t out_h = p.output.height, out_w = p.output.width;
  const RequantizationBounds bounds = load_bounds(pd.requant);
  Taps t;
  t.dilation_h = w.dilation_h;
  t.dilation_w = w.dilation_w;
  t.filter_w = w.filter_w;
  t.row_stride = int64_t{in_w} * channels;
  // The output columns whose 3x3 windows lie inside the image horizontally, [x_first, x_last)
  // (empty for other filters): the same for every row.
  int32_t x_first = 0, x_last = 0;
  if (w.filter_h == 3 && w.filter_w == 3) {
    x_first = out_w;
    for (int32_t x = 0; x < out_w; ++x) {
      const int32_t in_x0 = x * w.stride_w - w.pad_left;
      if (in_x0 >= 0 && in_x0 + 2 * w.dilation_w < in_w) {
        x_first = std::min(x_first, x);
        x_last = x + 1;
      }
    }
  }
  for (int64_t row = row_begin; row < row_end; ++row) {
    const auto batch = static_cast<int32_t>(row / out_h);
    const auto out_y = static_cast<int32_t>(row % out_h);
    const int32_t in_y0 = out_y * w.stride_h - w.pad_top;
    t.y = valid_taps(in_y0, w.dilation_h, w.filter_h, in_h);
    const uint8_t* image = input + int64_t{batch} * in_h * in_w * channels;
    uint8_t* out_row = output + (row - output_row_base) * out_w * channels;
    // Rows whose 3x3 windows are inside the image vertically: the interior columns run
    // interior_3x3 for their whole vectors of 16 channels.
    const bool rows_inside = x_first < x_last && t.y.first == 0 && t.y.last == 3;
    if (rows_inside) {
      for (int32_t c = 0; c + 16 <= channels; c += 16) {
        interior_3x3<kSigned>(p, pd, t, image + int64_t{in_y0} * t.row_stride, x_first, x_last, c,
                              bounds, out_row);
      }
    }
    for (int32_t out_x = 0; out_x < out_w; ++out_x) {
      const int32_t in_x0 = out_x * w.stride_w - w.pad_left;
      t.x = valid_taps(in_x0, w.dilation_w, w.filter_w, in_w);
      const bool interior = t.y.first == 0 && t.y.last == w.filter_h && t.x.first == 0 &&
                            t.x.last == w.filter_w;
      const uint8_t* origin = image + (int64_t{in_y0} * in_w + in_x0) * channels;
      uint8_t* out = out_row + int64_t{out_x} * channels;
      int32_t c = 0;
      if (rows_inside && out_x >= x_first && out_x < x_last) {
        c = channels / 16 * 16;  // done by interior_3x3
      } else if (interior) {
        for (; c + 16 <= channels; c += 16) {
          channels16<kSigned, false>(pd, t, origin, channels, c, bounds, out);
        }
      } else {
        for (; c + 16 <= channels; c += 16) {
          channels16<kSigned, true>(pd, t, origin, channels, c, bounds, out);
        }
      }
      for (; c + 8 <= channels; c += 8) channels8<kSigned>(pd, t, origin, channels, c, bounds, out);
      for (; c < channels; ++c) out[c] = depthwise_channel(p, pd, origin, t.y, t.x, c);
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

}  // namespace qseg::kernels::opt::neon

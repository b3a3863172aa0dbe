// Prepare-time packing for the optimized kernels: weight layouts, folded biases, per-channel
// requantization vectors and the fused resize + arg max column plan. No SIMD here.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>

#include "kernels/opt/optimized.h"

namespace qseg::kernels::opt {

namespace {

// The largest magnitude an exact int32 accumulator may reach before the reference would
// saturate: wrapping int32 arithmetic is exact only below it.
constexpr int64_t kInt32Limit = std::numeric_limits<int32_t>::max();

int32_t bias_at(const Tensor* bias, int32_t channel) {
  return bias == nullptr ? 0 : bias->data_as<int32_t>()[channel];
}

int64_t max_abs_bias(const Tensor* bias, int32_t channels) {
  int64_t m = 0;
  for (int32_t c = 0; c < channels; ++c) {
    const int64_t v = bias_at(bias, c);
    m = std::max(m, v < 0 ? -v : v);
  }
  return m;
}

// memcpy of a few bytes without a library call (the spans of a stem's im2col rows): two
// overlapping fixed-size copies cover any length from 4 to 16.
inline void copy_bytes(uint8_t* dst, const uint8_t* src, int32_t n) {
  if (n >= 8 && n <= 16) {
    std::memcpy(dst, src, 8);
    std::memcpy(dst + n - 8, src + n - 8, 8);
  } else if (n >= 4 && n < 8) {
    std::memcpy(dst, src, 4);
    std::memcpy(dst + n - 4, src + n - 4, 4);
  } else if (n < 4) {
    for (int32_t i = 0; i < n; ++i) dst[i] = src[i];
  } else {
    std::memcpy(dst, src, n);
  }
}

}  // namespace

bool make_channel_requantization(const ConvQuantization& q, int32_t channels,
                                 ChannelRequantization* out) {
  const int32_t padded = round_up(channels, kChannelBlock);
  ChannelRequantization r;
  r.fixed_point = q.requantization == Requantization::kFixedPoint;
  r.multiplier.assign(padded, 0);
  r.right_shift.assign(padded, 0);
  r.negative_shift.assign(padded, 0);
  r.scale.assign(padded, 0.0f);
  for (int32_t c = 0; c < channels; ++c) {
    const quant::FixedPointMultiplier& m = q.multipliers[c];
    if (r.fixed_point && m.shift > 0) return false;
    if (r.fixed_point && m.shift < -31) return false;
    r.multiplier[c] = m.multiplier;
    r.right_shift[c] = -m.shift;
    r.negative_shift[c] = m.shift;
    if (!q.float_scales.empty()) r.scale[c] = q.float_scales[c];
  }
  r.output_offset = q.output_offset;
  r.min = q.activation_range.min;
  r.max = q.activation_range.max;
  r.clamps_negatives = r.min - r.output_offset >= 0;
  r.full_range = (r.min == 0 && r.max == 255) || (r.min == -128 && r.max == 127);
  for (const int32_t width : {16, 8}) {
    ChannelRequantization::LaneConstants& l = width == 16 ? r.lanes16 : r.lanes8;
    l.multiplier.assign(padded, 0);
    l.nudge.assign(padded, int64_t{1} << 30);
    l.shift.assign(padded, 31);
    l.correction.assign(padded, 0);
    l.sign_bias.assign(padded, int64_t{1} << 32);
    for (int32_t c = 0; c < padded; ++c) {
      const int32_t block = c / width, lane = c % width;
      const size_t at = static_cast<size_t>(block) * width + (lane % 2) * (width / 2) + lane / 2;
      const quant::SingleRoundingShift s = quant::single_rounding_shift(r.right_shift[c]);
      l.multiplier[at] = r.multiplier[c];
      l.nudge[at] = s.nudge;
      l.shift[at] = s.shift;
      l.correction[at] = s.correction;
      l.sign_bias[at] = int64_t{1} << (63 - s.shift);
    }
  }
  *out = std::move(r);
  return true;
}

bool pack_conv(const Conv2dParams& p, const Tensor& weights, const Tensor* bias, ConvLayout layout,
               PackedConv* out) {
  if (p.type != DataType::kUInt8 && p.type != DataType::kInt8) return false;
  const ConvQuantization& q = p.quantization;
  const Window2d& w = p.window;
  PackedConv pc;
  pc.is_signed = p.type == DataType::kInt8;
  pc.k = w.filter_h * w.filter_w * p.input.channels;
  pc.k_padded = round_up(pc.k, 4);
  pc.n = p.output.channels;
  pc.n_blocks = (pc.n + kChannelBlock - 1) / kChannelBlock;
  pc.direct = w.filter_h == 1 && w.filter_w == 1 && w.stride_h == 1 && w.stride_w == 1 &&
              w.pad_top == 0 && w.pad_left == 0 && pc.k % 4 == 0 &&
              p.output.height == p.input.height && p.output.width == p.input.width;
  if (!pc.direct && pc.k_padded > kMaxIm2colDepth) return false;
  // Exactness bound: |sum (a - za)(w - zw)| <= k * 255 * 255, plus the bias.
  if (int64_t{pc.k} * 255 * 255 + max_abs_bias(bias, pc.n) > kInt32Limit) return false;
  if (!make_channel_requantization(q, pc.n, &pc.requant)) return false;

  const int32_t za = -q.input_offset;
  const int32_t zw = -q.weights_offset;  // 0 for int8
  pc.pad_byte = static_cast<uint8_t>(za);
  const uint8_t* raw = weights.data.data();  // [O][KH][KW][I] is [O][k]
  // The weight as the true product sees it: w - zw (uint8) or w (int8).
  const auto true_weight = [&](int32_t oc, int32_t k) {
    const uint8_t byte = raw[int64_t{oc} * pc.k + k];
    return pc.is_signed ? int32_t{static_cast<int8_t>(byte)} : int32_t{byte} - zw;
  };
  const auto sum_weights = [&](int32_t oc) {
    int64_t sum = 0;
    for (int32_t k = 0; k < pc.k; ++k) sum += true_weight(oc, k);
    return sum;
  };
  // In int64, then wrapped to int32: the kernels' int32 sums wrap the same way and the total is
  // exact (bound above).
  const auto wrap = [](int64_t v) { return static_cast<int32_t>(static_cast<uint32_t>(v)); };

  if (layout == ConvLayout::kWidePairs || layout == ConvLayout::kWideColumns) {
    if (pc.k > kMaxIm2colDepth) return false;  // the kernel widens rows on the stack
    const bool pairs_layout = layout == ConvLayout::kWidePairs;
    pc.wide_k_padded = round_up(pc.k, pairs_layout ? 2 : 4);
    const int32_t pairs = pc.wide_k_padded / 2;
    pc.wide_weights.assign(static_cast<size_t>(pc.n_blocks) * pc.wide_k_padded * kChannelBlock, 0);
    pc.wide_bias.assign(static_cast<size_t>(pc.n_blocks) * kChannelBlock, 0);
    for (int32_t oc = 0; oc < pc.n; ++oc) {
      for (int32_t k = 0; k < pc.k; ++k) {
        const size_t at =
            pairs_layout
                ? ((static_cast<size_t>(oc / 8) * pairs + k / 2) * 8 + oc % 8) * 2 + k % 2
                : (static_cast<size_t>(oc / kChannelBlock) * pc.wide_k_padded + k) *
                          kChannelBlock +
                      oc % kChannelBlock;
        pc.wide_weights[at] = static_cast<int16_t>(true_weight(oc, k));
      }
      pc.wide_bias[oc] = wrap(bias_at(bias, oc) - int64_t{za} * sum_weights(oc));
    }
    *out = std::move(pc);
    return true;
  }
  const bool dot = layout == ConvLayout::kDot;
  // kVnni: uint8 sum (a - za)(w - zw) = sum a (w - 128) + (128 - zw) sum a - za sum (w - zw);
  //        int8  sum (a - za) w = sum (a ^ 0x80) w - (128 + za) sum w.
  // kDot:  uint8 sum (a - za)(w - zw) = sum a w - zw sum a - za sum (w - zw);
  //        int8  sum (a - za) w = sum a w - za sum w.
  pc.rowsum_coefficient = pc.is_signed ? 0 : (dot ? -zw : 128 - zw);
  pc.input_xor = pc.is_signed && !dot ? 0x80808080u : 0u;
  const int32_t groups = pc.k_padded / 4;
  pc.weights.assign(static_cast<size_t>(pc.n_blocks) * groups * kChannelBlock * 4, 0);
  pc.bias.assign(static_cast<size_t>(pc.n_blocks) * kChannelBlock, 0);
  for (int32_t oc = 0; oc < pc.n; ++oc) {
    const int32_t block = oc / kChannelBlock, lane = oc % kChannelBlock;
    for (int32_t k = 0; k < pc.k; ++k) {
      const uint8_t byte = raw[int64_t{oc} * pc.k + k];
      const int32_t packed =
          pc.is_signed || dot ? static_cast<int8_t>(byte) : int32_t{byte} - 128;
      const size_t index =
          ((static_cast<size_t>(block) * groups + k / 4) * kChannelBlock + lane) * 4 + k % 4;
      pc.weights[index] = static_cast<int8_t>(packed);
    }
    const int64_t input_term = pc.is_signed && !dot ? 128 + za : za;
    pc.bias[oc] = wrap(bias_at(bias, oc) - input_term * sum_weights(oc));
  }
  *out = std::move(pc);
  return true;
}

bool pack_depthwise(const DepthwiseConv2dParams& p, const Tensor& weights, const Tensor* bias,
                    PackedDepthwise* out) {
  if (p.type != DataType::kUInt8 && p.type != DataType::kInt8) return false;
  if (p.depth_multiplier != 1) return false;
  const int32_t channels = p.output.channels;
  const ConvQuantization& q = p.quantization;
  PackedDepthwise pd;
  pd.is_signed = p.type == DataType::kInt8;
  pd.taps = p.window.filter_h * p.window.filter_w;
  if (int64_t{pd.taps} * 255 * 255 + max_abs_bias(bias, channels) > kInt32Limit) return false;
  if (!make_channel_requantization(q, channels, &pd.requant)) return false;
  pd.channels_padded = round_up(channels, kChannelBlock);
  pd.input_offset = q.input_offset;
  pd.weights.assign(static_cast<size_t>(pd.taps) * pd.channels_padded, 0);
  pd.bias.assign(pd.channels_padded, 0);
  const uint8_t* raw = weights.data.data();  // [1][KH][KW][C]
  for (int32_t t = 0; t < pd.taps; ++t) {
    for (int32_t c = 0; c < channels; ++c) {
      const uint8_t byte = raw[int64_t{t} * channels + c];
      const int32_t value = pd.is_signed ? static_cast<int8_t>(byte) : byte;
      pd.weights[static_cast<size_t>(t) * pd.channels_padded + c] = value + q.weights_offset;
    }
  }
  pd.narrow_weights.assign(pd.weights.begin(), pd.weights.end());
  const int32_t pairs = (pd.taps + 1) / 2;
  pd.pair_weights.assign(static_cast<size_t>(pairs) * pd.channels_padded * 2, 0);
  for (int32_t t = 0; t < pd.taps; ++t) {
    for (int32_t c = 0; c < pd.channels_padded; ++c) {
      pd.pair_weights[(static_cast<size_t>(t / 2) * pd.channels_padded + c) * 2 + t % 2] =
          static_cast<int16_t>(pd.weights[static_cast<size_t>(t) * pd.channels_padded + c]);
    }
  }
  if (p.window.filter_h == 3 && p.window.filter_w == 3) {
    pd.column_pair_weights.assign(static_cast<size_t>(3) * pd.channels_padded * 2, 0);
    pd.last_row_weights.assign(static_cast<size_t>(3) * pd.channels_padded * 2, 0);
    for (int32_t fx = 0; fx < 3; ++fx) {
      for (int32_t c = 0; c < pd.channels_padded; ++c) {
        const size_t at = (static_cast<size_t>(fx) * pd.channels_padded + c) * 2;
        const auto tap = [&](int32_t fy) {
          return static_cast<int16_t>(
              pd.weights[static_cast<size_t>(fy * 3 + fx) * pd.channels_padded + c]);
        };
        pd.column_pair_weights[at] = tap(0);
        pd.column_pair_weights[at + 1] = tap(1);
        pd.last_row_weights[at] = tap(2);
      }
    }
  }
  pd.interior_bias.assign(pd.channels_padded, 0);
  for (int32_t c = 0; c < channels; ++c) {
    pd.bias[c] = bias_at(bias, c);
    int64_t sum = 0;
    for (int32_t t = 0; t < pd.taps; ++t)
      sum += pd.weights[static_cast<size_t>(t) * pd.channels_padded + c];
    // Exact: |offset * sum| <= 255 * taps * 255, within the bound checked above.
    pd.interior_bias[c] = static_cast<int32_t>(pd.bias[c] + int64_t{q.input_offset} * sum);
  }
  *out = std::move(pd);
  return true;
}

bool plan_resize_arg_max(const ResizeBilinearParams& r, const ArgMaxParams& a, int32_t width,
                         ResizeArgMaxPlan* out) {
  if (r.type != DataType::kUInt8 && r.type != DataType::kInt8) return false;
  if (a.inner != 1 || a.axis_size != r.output.channels) return false;
  if (2 * int64_t{r.input.channels} * (r.input.width + width) > kResizeArgMaxPlaneFloats) {
    return false;
  }
  const int32_t out_w = r.output.width;
  const int32_t blocks = (out_w + width - 1) / width;
  ResizeArgMaxPlan plan;
  plan.width = width;
  const auto in_unit_interval = [](const InterpolationTap& t) {
    return t.fraction >= 0.0f && t.fraction <= 1.0f;
  };
  plan.non_negative = r.type == DataType::kUInt8 && r.range.min == 0 && r.range.max == 255 &&
                      std::all_of(r.rows.begin(), r.rows.end(), in_unit_interval) &&
                      std::all_of(r.columns.begin(), r.columns.end(), in_unit_interval);
  plan.row_length = r.input.width + width;
  plan.block_base.resize(blocks);
  const size_t padded = static_cast<size_t>(blocks) * width;
  plan.lower_index.assign(padded, 0);
  plan.upper_index.assign(padded, 0);
  plan.one_minus_fraction.assign(padded, 1.0f);
  plan.fraction.assign(padded, 0.0f);
  for (int32_t b = 0; b < blocks; ++b) {
    const int32_t first = b * width;
    const int32_t last = std::min(out_w, first + width);
    int32_t base = r.columns[first].lower;
    for (int32_t x = first; x < last; ++x) base = std::min(base, r.columns[x].lower);
    plan.block_base[b] = base;
    for (int32_t x = first; x < width * (b + 1); ++x) {
      const InterpolationTap& t = r.columns[x < last ? x : last - 1];
      const int32_t lo = t.lower - base, up = t.upper - base;
      // Each block must read a window of 16 input columns (upsampling does).
      if (lo < 0 || up < 0 || lo >= width || up >= width) return false;
      plan.lower_index[x] = lo;
      plan.upper_index[x] = up;
      plan.one_minus_fraction[x] = 1 - t.fraction;
      plan.fraction[x] = t.fraction;
    }
  }
  *out = std::move(plan);
  return true;
}

int32_t requantize_scalar(const ChannelRequantization& r, int32_t accumulator, int32_t channel) {
  const quant::QuantizedRange range{r.min, r.max};
  if (!r.fixed_point) {
    return quant::requantize_float(accumulator, r.scale[channel], r.output_offset, range);
  }
  const quant::FixedPointMultiplier m{r.multiplier[channel], -r.right_shift[channel]};
  return quant::offset_and_clamp(quant::multiply_by_quantized_multiplier(accumulator, m),
                                 r.output_offset, range);
}

void im2col_rows(const Conv2dParams& p, const PackedConv& pc, const uint8_t* input,
                 OutputPosition* at, int count, int32_t padded_depth, uint8_t* rows,
                 int64_t row_stride) {
  const Window2d& w = p.window;
  const int32_t in_h = p.input.height, in_w = p.input.width, in_c = p.input.channels;
  const int32_t span = w.filter_w * in_c;  // bytes of one filter row with dilation 1
  for (int i = 0; i < count; ++i, at->next(p.output)) {
    uint8_t* dst = rows + i * row_stride;
    const uint8_t* image = input + int64_t{at->batch} * in_h * in_w * in_c;
    const int32_t in_x0 = at->x * w.stride_w - w.pad_left;
    const int32_t in_y0 = at->y * w.stride_h - w.pad_top;
    // With dilation 1 and every column inside the image, a filter row is one contiguous span.
    const bool whole_rows = w.dilation_w == 1 && in_x0 >= 0 && in_x0 + w.filter_w <= in_w;
    for (int32_t fy = 0; fy < w.filter_h; ++fy) {
      const int32_t in_y = in_y0 + fy * w.dilation_h;
      const uint8_t* src_row = image + int64_t{in_y} * in_w * in_c;
      if (whole_rows && in_y >= 0 && in_y < in_h) {
        copy_bytes(dst, src_row + int64_t{in_x0} * in_c, span);
        dst += span;
        continue;
      }
      for (int32_t fx = 0; fx < w.filter_w; ++fx) {
        const int32_t in_x = in_x0 + fx * w.dilation_w;
        if (in_y < 0 || in_y >= in_h || in_x < 0 || in_x >= in_w) {
          std::fill_n(dst, in_c, pc.pad_byte);
        } else {
          copy_bytes(dst, src_row + int64_t{in_x} * in_c, in_c);
        }
        dst += in_c;
      }
    }
    std::fill_n(dst, padded_depth - pc.k, uint8_t{0});
  }
}

}  // namespace qseg::kernels::opt

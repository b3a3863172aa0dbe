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

}  // namespace

bool make_channel_requantization(const ConvQuantization& q, int32_t channels,
                                 ChannelRequantization* out) {
  const int32_t padded = round_up(channels, kChannelBlock);
  ChannelRequantization r;
  r.fixed_point = q.requantization == Requantization::kFixedPoint;
  r.multiplier.assign(padded, 0);
  r.right_shift.assign(padded, 0);
  r.scale.assign(padded, 0.0f);
  for (int32_t c = 0; c < channels; ++c) {
    const quant::FixedPointMultiplier& m = q.multipliers[c];
    if (r.fixed_point && m.shift > 0) return false;
    if (r.fixed_point && m.shift < -31) return false;
    r.multiplier[c] = m.multiplier;
    r.right_shift[c] = -m.shift;
    if (!q.float_scales.empty()) r.scale[c] = q.float_scales[c];
  }
  r.output_offset = q.output_offset;
  r.min = q.activation_range.min;
  r.max = q.activation_range.max;
  r.clamps_negatives = r.min - r.output_offset >= 0;
  r.lane_multiplier.assign(padded, 0);
  r.lane_nudge.assign(padded, int64_t{1} << 30);
  r.lane_shift.assign(padded, 31);
  r.lane_correction.assign(padded, 0);
  for (int32_t c = 0; c < padded; ++c) {
    const int32_t block = c / kChannelBlock, lane = c % kChannelBlock;
    const size_t at = static_cast<size_t>(block) * kChannelBlock + (lane % 2) * 8 + lane / 2;
    const int32_t e = r.right_shift[c];
    r.lane_multiplier[at] = r.multiplier[c];
    r.lane_nudge[at] = (int64_t{1} << 30) + (e >= 1 ? int64_t{1} << (e + 30) : 0);
    r.lane_shift[at] = 31 + e;
    r.lane_correction[at] = e >= 1 ? int64_t{1} << 31 : 0;
  }
  *out = std::move(r);
  return true;
}

bool pack_conv(const Conv2dParams& p, const Tensor& weights, const Tensor* bias, PackedConv* out) {
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
  pc.rowsum_coefficient = pc.is_signed ? 0 : 128 - zw;
  pc.input_xor = pc.is_signed ? 0x80808080u : 0u;
  pc.pad_byte = static_cast<uint8_t>(za);
  const int32_t groups = pc.k_padded / 4;
  pc.weights.assign(static_cast<size_t>(pc.n_blocks) * groups * kChannelBlock * 4, 0);
  pc.bias.assign(static_cast<size_t>(pc.n_blocks) * kChannelBlock, 0);
  const uint8_t* raw = weights.data.data();  // [O][KH][KW][I] is [O][k]
  for (int32_t oc = 0; oc < pc.n; ++oc) {
    const int32_t block = oc / kChannelBlock, lane = oc % kChannelBlock;
    int64_t sum_w = 0;  // sum over k of the weight as the true product sees it
    for (int32_t k = 0; k < pc.k; ++k) {
      const uint8_t byte = raw[int64_t{oc} * pc.k + k];
      int32_t packed = 0;
      if (pc.is_signed) {
        packed = static_cast<int8_t>(byte);
        sum_w += packed;
      } else {
        packed = int32_t{byte} - 128;
        sum_w += int32_t{byte} - zw;
      }
      const size_t index =
          ((static_cast<size_t>(block) * groups + k / 4) * kChannelBlock + lane) * 4 + k % 4;
      pc.weights[index] = static_cast<int8_t>(packed);
    }
    // uint8: - za * sum (w - zw); int8: - (128 + za) * sum w. In int64, then wrapped to int32:
    // the kernel's int32 sums wrap the same way and the total is exact (bound above).
    const int64_t fold = pc.is_signed ? -(128 + za) * sum_w : -za * sum_w;
    pc.bias[oc] = static_cast<int32_t>(static_cast<uint32_t>(bias_at(bias, oc) + fold));
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
  const int32_t pairs = (pd.taps + 1) / 2;
  pd.pair_weights.assign(static_cast<size_t>(pairs) * pd.channels_padded * 2, 0);
  for (int32_t t = 0; t < pd.taps; ++t) {
    for (int32_t c = 0; c < pd.channels_padded; ++c) {
      pd.pair_weights[(static_cast<size_t>(t / 2) * pd.channels_padded + c) * 2 + t % 2] =
          static_cast<int16_t>(pd.weights[static_cast<size_t>(t) * pd.channels_padded + c]);
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

bool plan_resize_arg_max(const ResizeBilinearParams& r, const ArgMaxParams& a,
                         ResizeArgMaxPlan* out) {
  if (r.type != DataType::kUInt8 && r.type != DataType::kInt8) return false;
  if (a.inner != 1 || a.axis_size != r.output.channels) return false;
  if (2 * int64_t{r.input.channels} * (r.input.width + kChannelBlock) > kResizeArgMaxPlaneFloats) {
    return false;
  }
  const int32_t out_w = r.output.width;
  const int32_t blocks = (out_w + kChannelBlock - 1) / kChannelBlock;
  ResizeArgMaxPlan plan;
  plan.row_length = r.input.width + kChannelBlock;
  plan.block_base.resize(blocks);
  const size_t padded = static_cast<size_t>(blocks) * kChannelBlock;
  plan.lower_index.assign(padded, 0);
  plan.upper_index.assign(padded, 0);
  plan.one_minus_fraction.assign(padded, 1.0f);
  plan.fraction.assign(padded, 0.0f);
  for (int32_t b = 0; b < blocks; ++b) {
    const int32_t first = b * kChannelBlock;
    const int32_t last = std::min(out_w, first + kChannelBlock);
    int32_t base = r.columns[first].lower;
    for (int32_t x = first; x < last; ++x) base = std::min(base, r.columns[x].lower);
    plan.block_base[b] = base;
    for (int32_t x = first; x < kChannelBlock * (b + 1); ++x) {
      const InterpolationTap& t = r.columns[x < last ? x : last - 1];
      const int32_t lo = t.lower - base, up = t.upper - base;
      // Each block must read a window of 16 input columns (upsampling does).
      if (lo < 0 || up < 0 || lo >= kChannelBlock || up >= kChannelBlock) return false;
      plan.lower_index[x] = lo;
      plan.upper_index[x] = up;
      plan.one_minus_fraction[x] = 1 - t.fraction;
      plan.fraction[x] = t.fraction;
    }
  }
  *out = std::move(plan);
  return true;
}

}  // namespace qseg::kernels::opt

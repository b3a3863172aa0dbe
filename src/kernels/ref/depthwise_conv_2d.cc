// DEPTHWISE_CONV_2D reference kernels (uint8, int8 per-channel, float32): direct loops with
// TFLite's arithmetic; the specification for optimized variants.
#include "kernels/depthwise_conv_2d.h"

#include <algorithm>
#include <limits>

namespace qseg::kernels::ref {

namespace {

// The walk both kernels share: for each output value of the rows, begin(), then
// tap(input_index, weight_index) for every in-bounds filter tap, then out[oc] = end(oc).
template <typename Out, typename Begin, typename Tap, typename End>
void for_each_tap(const DepthwiseConv2dParams& p, Out* output, int64_t row_begin, int64_t row_end,
                  Begin begin, Tap tap, End end) {
  const Window2d& w = p.window;
  const int32_t in_h = p.input.height, in_w = p.input.width, in_c = p.input.channels;
  const int32_t out_h = p.output.height, out_w = p.output.width, out_c = p.output.channels;
  for (int64_t row = row_begin; row < row_end; ++row) {
    const auto batch = static_cast<int32_t>(row / out_h);
    const auto out_y = static_cast<int32_t>(row % out_h);
    const int32_t in_y_origin = out_y * w.stride_h - w.pad_top;
    for (int32_t out_x = 0; out_x < out_w; ++out_x) {
      const int32_t in_x_origin = out_x * w.stride_w - w.pad_left;
      Out* out = output + (row * out_w + out_x) * out_c;
      for (int32_t ic = 0; ic < in_c; ++ic) {
        for (int32_t m = 0; m < p.depth_multiplier; ++m) {
          const int32_t oc = ic * p.depth_multiplier + m;
          begin();
          for (int32_t fy = 0; fy < w.filter_h; ++fy) {
            const int32_t in_y = in_y_origin + fy * w.dilation_h;
            if (in_y < 0 || in_y >= in_h) continue;  // zero padding
            for (int32_t fx = 0; fx < w.filter_w; ++fx) {
              const int32_t in_x = in_x_origin + fx * w.dilation_w;
              if (in_x < 0 || in_x >= in_w) continue;
              const int64_t input_index =
                  ((int64_t{batch} * in_h + in_y) * in_w + in_x) * in_c + ic;
              const int64_t weight_index = (int64_t{fy} * w.filter_w + fx) * out_c + oc;
              tap(input_index, weight_index);
            }
          }
          out[oc] = end(oc);
        }
      }
    }
  }
}

template <typename T>
void depthwise_quantized(const DepthwiseConv2dParams& p, const T* input, const T* weights,
                         const int32_t* bias, T* output, int64_t row_begin, int64_t row_end) {
  const ConvQuantization& q = p.quantization;
  int64_t acc = 0;  // at most KH * KW products of magnitude <= 255 * 255: exact in 64 bits
  for_each_tap(
      p, output, row_begin, row_end, [&] { acc = 0; },
      [&](int64_t i, int64_t k) {
        const int32_t product = (static_cast<int32_t>(input[i]) + q.input_offset) *
                                (static_cast<int32_t>(weights[k]) + q.weights_offset);
        acc += product;
      },
      [&](int32_t oc) {
        if (bias != nullptr) acc += bias[oc];
        const auto saturated = static_cast<int32_t>(std::clamp<int64_t>(
            acc, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()));
        return static_cast<T>(q.requantize(saturated, oc));
      });
}

}  // namespace

void depthwise_conv_2d_uint8(const DepthwiseConv2dParams& params, const uint8_t* input,
                             const uint8_t* weights, const int32_t* bias, uint8_t* output,
                             int64_t row_begin, int64_t row_end) {
  depthwise_quantized(params, input, weights, bias, output, row_begin, row_end);
}

void depthwise_conv_2d_int8(const DepthwiseConv2dParams& params, const int8_t* input,
                            const int8_t* weights, const int32_t* bias, int8_t* output,
                            int64_t row_begin, int64_t row_end) {
  depthwise_quantized(params, input, weights, bias, output, row_begin, row_end);
}

void depthwise_conv_2d_float(const DepthwiseConv2dParams& p, const float* input,
                             const float* weights, const float* bias, float* output,
                             int64_t row_begin, int64_t row_end) {
  float total = 0.0f;
  for_each_tap(
      p, output, row_begin, row_end, [&] { total = 0.0f; },
      [&](int64_t i, int64_t k) { total += input[i] * weights[k]; },
      [&](int32_t oc) {
        const float value = total + (bias != nullptr ? bias[oc] : 0.0f);
        return std::min(std::max(value, p.float_activation_range.min),
                        p.float_activation_range.max);
      });
}

}  // namespace qseg::kernels::ref

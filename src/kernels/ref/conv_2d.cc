// CONV_2D reference kernels (uint8, int8 per-channel, float32): direct loops, TFLite's
// arithmetic. These are the specification the optimized kernels must match bit for bit.
#include "kernels/conv_2d.h"

#include <algorithm>
#include <limits>

namespace qseg::kernels::ref {

namespace {

// Sums of at most this many products fit in int32: 8-bit products are at most 255 * 255 (uint8
// with offsets) or 255 * 128 (int8), and 32768 * 65025 < 2^31.
constexpr int32_t kInt32SafeTerms = 32768;

template <typename T>
int64_t dot_with_offsets(const T* x, const T* w, int32_t n, int32_t x_offset, int32_t w_offset) {
  int64_t total = 0;
  for (int32_t begin = 0; begin < n; begin += kInt32SafeTerms) {
    const int32_t end = std::min(n, begin + kInt32SafeTerms);
    int32_t partial = 0;
    for (int32_t i = begin; i < end; ++i) {
      partial += (static_cast<int32_t>(x[i]) + x_offset) * (static_cast<int32_t>(w[i]) + w_offset);
    }
    total += partial;
  }
  return total;
}

int32_t saturate_to_int32(int64_t v) {
  return static_cast<int32_t>(std::clamp<int64_t>(v, std::numeric_limits<int32_t>::min(),
                                                  std::numeric_limits<int32_t>::max()));
}

template <typename T>
void conv_2d_quantized(const Conv2dParams& p, const T* input, const T* weights, const int32_t* bias,
                       T* output, int64_t row_begin, int64_t row_end) {
  const Window2d& w = p.window;
  const ConvQuantization& q = p.quantization;
  const int32_t in_h = p.input.height, in_w = p.input.width, in_c = p.input.channels;
  const int32_t out_h = p.output.height, out_w = p.output.width, out_c = p.output.channels;
  for (int64_t row = row_begin; row < row_end; ++row) {
    const auto batch = static_cast<int32_t>(row / out_h);
    const auto out_y = static_cast<int32_t>(row % out_h);
    const int32_t in_y_origin = out_y * w.stride_h - w.pad_top;
    for (int32_t out_x = 0; out_x < out_w; ++out_x) {
      const int32_t in_x_origin = out_x * w.stride_w - w.pad_left;
      T* out = output + (row * out_w + out_x) * out_c;
      for (int32_t oc = 0; oc < out_c; ++oc) {
        int64_t acc = 0;
        for (int32_t fy = 0; fy < w.filter_h; ++fy) {
          const int32_t in_y = in_y_origin + fy * w.dilation_h;
          if (in_y < 0 || in_y >= in_h) continue;  // zero padding: the tap contributes nothing
          for (int32_t fx = 0; fx < w.filter_w; ++fx) {
            const int32_t in_x = in_x_origin + fx * w.dilation_w;
            if (in_x < 0 || in_x >= in_w) continue;
            const T* x = input + ((int64_t{batch} * in_h + in_y) * in_w + in_x) * in_c;
            const T* k = weights + ((int64_t{oc} * w.filter_h + fy) * w.filter_w + fx) * in_c;
            acc += dot_with_offsets(x, k, in_c, q.input_offset, q.weights_offset);
          }
        }
        if (bias != nullptr) acc += bias[oc];
        out[oc] = static_cast<T>(q.requantize(saturate_to_int32(acc), oc));
      }
    }
  }
}

}  // namespace

void conv_2d_uint8(const Conv2dParams& params, const uint8_t* input, const uint8_t* weights,
                   const int32_t* bias, uint8_t* output, int64_t row_begin, int64_t row_end) {
  conv_2d_quantized(params, input, weights, bias, output, row_begin, row_end);
}

void conv_2d_int8(const Conv2dParams& params, const int8_t* input, const int8_t* weights,
                  const int32_t* bias, int8_t* output, int64_t row_begin, int64_t row_end) {
  conv_2d_quantized(params, input, weights, bias, output, row_begin, row_end);
}

void conv_2d_float(const Conv2dParams& p, const float* input, const float* weights,
                   const float* bias, float* output, int64_t row_begin, int64_t row_end) {
  const Window2d& w = p.window;
  const int32_t in_h = p.input.height, in_w = p.input.width, in_c = p.input.channels;
  const int32_t out_h = p.output.height, out_w = p.output.width, out_c = p.output.channels;
  for (int64_t row = row_begin; row < row_end; ++row) {
    const auto batch = static_cast<int32_t>(row / out_h);
    const auto out_y = static_cast<int32_t>(row % out_h);
    const int32_t in_y_origin = out_y * w.stride_h - w.pad_top;
    for (int32_t out_x = 0; out_x < out_w; ++out_x) {
      const int32_t in_x_origin = out_x * w.stride_w - w.pad_left;
      float* out = output + (row * out_w + out_x) * out_c;
      for (int32_t oc = 0; oc < out_c; ++oc) {
        float total = 0.0f;
        for (int32_t fy = 0; fy < w.filter_h; ++fy) {
          const int32_t in_y = in_y_origin + fy * w.dilation_h;
          if (in_y < 0 || in_y >= in_h) continue;
          for (int32_t fx = 0; fx < w.filter_w; ++fx) {
            const int32_t in_x = in_x_origin + fx * w.dilation_w;
            if (in_x < 0 || in_x >= in_w) continue;
            const float* x = input + ((int64_t{batch} * in_h + in_y) * in_w + in_x) * in_c;
            const float* k = weights + ((int64_t{oc} * w.filter_h + fy) * w.filter_w + fx) * in_c;
            for (int32_t ic = 0; ic < in_c; ++ic) total += x[ic] * k[ic];
          }
        }
        const float value = total + (bias != nullptr ? bias[oc] : 0.0f);
        out[oc] =
            std::min(std::max(value, p.float_activation_range.min), p.float_activation_range.max);
      }
    }
  }
}

}  // namespace qseg::kernels::ref

// AVERAGE_POOL_2D reference kernels (uint8, int8, float32) with TFLite's rounding.
#include "kernels/average_pool_2d.h"

#include <algorithm>

namespace qseg::kernels::ref {

namespace {

// Stores finish(sum, count) as every output value of the rows, where sum (of type Acc) runs over
// the window's `count` in-bounds elements in filter-y, filter-x order.
template <typename Acc, typename T, typename Out, typename Finish>
void pool_sums(const AveragePool2dParams& p, const T* input, Out* output, int64_t row_begin,
               int64_t row_end, Finish finish) {
  const int32_t in_h = p.input.height, in_w = p.input.width, channels = p.input.channels;
  const int32_t out_h = p.output.height, out_w = p.output.width;
  for (int64_t row = row_begin; row < row_end; ++row) {
    const auto batch = static_cast<int32_t>(row / out_h);
    const auto out_y = static_cast<int32_t>(row % out_h);
    for (int32_t out_x = 0; out_x < out_w; ++out_x) {
      const PoolWindow window = pool_window(p, out_y, out_x);
      const int64_t count = window.count;
      Out* out = output + (row * out_w + out_x) * channels;
      for (int32_t c = 0; c < channels; ++c) {
        Acc sum = 0;
        for (int32_t y = window.y_begin; y < window.y_end; ++y) {
          for (int32_t x = window.x_begin; x < window.x_end; ++x) {
            sum += input[((int64_t{batch} * in_h + y) * in_w + x) * channels + c];
          }
        }
        out[c] = finish(sum, count);
      }
    }
  }
}

template <typename T>
void average_pool_quantized(const AveragePool2dParams& p, const T* input, T* output,
                            int64_t row_begin, int64_t row_end) {
  pool_sums<int64_t>(p, input, output, row_begin, row_end, [&](int64_t sum, int64_t count) {
    // A window always overlaps the input (the padding before is smaller than the filter), so
    // count > 0; the guard only keeps a malformed call from dividing by zero.
    const int64_t average = count > 0 ? quant::rounding_divide(sum, count) : 0;
    return static_cast<T>(quant::clamp(static_cast<int32_t>(average), p.activation_range));
  });
}

}  // namespace

void average_pool_2d_uint8(const AveragePool2dParams& params, const uint8_t* input, uint8_t* output,
                           int64_t row_begin, int64_t row_end) {
  average_pool_quantized(params, input, output, row_begin, row_end);
}

void average_pool_2d_int8(const AveragePool2dParams& params, const int8_t* input, int8_t* output,
                          int64_t row_begin, int64_t row_end) {
  average_pool_quantized(params, input, output, row_begin, row_end);
}

void average_pool_2d_float(const AveragePool2dParams& p, const float* input, float* output,
                           int64_t row_begin, int64_t row_end) {
  const quant::FloatRange range = p.float_activation_range;
  pool_sums<float>(p, input, output, row_begin, row_end, [&](float sum, int64_t count) {
    const float average = count > 0 ? sum / static_cast<float>(count) : 0.0f;
    return std::min(std::max(average, range.min), range.max);
  });
}

}  // namespace qseg::kernels::ref

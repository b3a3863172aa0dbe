// AVERAGE_POOL_2D: the parameters prepared once from the graph, and the reference kernels.
// The average covers the in-bounds elements of each window only (padding is not counted).
#pragma once

#include <algorithm>
#include <cstdint>

#include "kernels/shape.h"
#include "qseg/graph.h"
#include "qseg/status.h"
#include "quant/quant.h"

namespace qseg::kernels {

struct AveragePool2dParams {
  DataType type = DataType::kFloat32;  // of input and output: uint8, int8 or float32
  Nhwc input;
  Nhwc output;
  Window2d window;                           // dilation 1
  quant::QuantizedRange activation_range;    // uint8 and int8 kernels
  quant::FloatRange float_activation_range;  // float32 kernel

  int64_t rows() const { return int64_t{output.batch} * output.height; }
};

// The input window of output (out_y, out_x), clipped to the image: rows [y_begin, y_end),
// columns [x_begin, x_end), and the number of elements it averages.
struct PoolWindow {
  int32_t y_begin = 0, y_end = 0, x_begin = 0, x_end = 0;
  int64_t count = 0;
};
inline PoolWindow pool_window(const AveragePool2dParams& p, int32_t out_y, int32_t out_x) {
  const Window2d& w = p.window;
  PoolWindow r;
  const int32_t in_y = out_y * w.stride_h - w.pad_top;
  const int32_t in_x = out_x * w.stride_w - w.pad_left;
  r.y_begin = std::max(0, in_y);
  r.y_end = std::min(p.input.height, in_y + w.filter_h);
  r.x_begin = std::max(0, in_x);
  r.x_end = std::min(p.input.width, in_x + w.filter_w);
  r.count = int64_t{std::max(0, r.y_end - r.y_begin)} * std::max(0, r.x_end - r.x_begin);
  return r;
}

// Input and output of a quantized pool must share scale and zero point (as TFLite requires):
// the average of the stored values is then the stored value of the average.
Result<AveragePool2dParams> prepare_average_pool_2d(const Graph& graph, const Op& op);

namespace ref {

// Each computes output rows [row_begin, row_end) of rows(). Quantized: the integer sum over the
// window divided by the count rounded half away from zero (TFLite's (sum + count / 2) / count
// for uint8), then clamped. Float: sum in window order divided by the count, then clamped.
void average_pool_2d_uint8(const AveragePool2dParams& params, const uint8_t* input, uint8_t* output,
                           int64_t row_begin, int64_t row_end);
void average_pool_2d_int8(const AveragePool2dParams& params, const int8_t* input, int8_t* output,
                          int64_t row_begin, int64_t row_end);
void average_pool_2d_float(const AveragePool2dParams& params, const float* input, float* output,
                           int64_t row_begin, int64_t row_end);

}  // namespace ref
}  // namespace qseg::kernels

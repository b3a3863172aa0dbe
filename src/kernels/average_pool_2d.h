// AVERAGE_POOL_2D: the parameters prepared once from the graph, and the reference kernels.
// The average covers the in-bounds elements of each window only (padding is not counted).
#pragma once

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

// CONV_2D: the parameters prepared once from the graph, and the reference kernels.
// Layouts: input [N,H,W,I], weights [O,KH,KW,I], bias [O], output [N,OH,OW,O].
#pragma once

#include <cstdint>

#include "kernels/conv_quantization.h"
#include "kernels/shape.h"
#include "qseg/graph.h"
#include "qseg/status.h"
#include "quant/quant.h"

namespace qseg::kernels {

struct Conv2dParams {
  DataType type = DataType::kFloat32;  // of input, weights and output: uint8, int8 or float32
  Nhwc input;
  Nhwc output;
  Window2d window;
  bool has_bias = false;
  ConvQuantization quantization;             // uint8 and int8 kernels
  quant::FloatRange float_activation_range;  // float32 kernel

  // The unit of work the kernels are split into: one output row of one image.
  int64_t rows() const { return int64_t{output.batch} * output.height; }
};

// Inputs: input, weights, bias (optional: absent or kNoTensor). Options: Conv2dOptions.
// `requantization` picks the 8-bit arithmetic.
Result<Conv2dParams> prepare_conv_2d(const Graph& graph, const Op& op,
                                     Requantization requantization = Requantization::kFixedPoint);

namespace ref {

// Each computes output rows [row_begin, row_end) of the rows() = batch * output height rows;
// bias may be null. uint8: per-tensor weights with their own zero point. int8: symmetric
// per-channel weights. Accumulators are exact (no int32 overflow whatever the depth) and are
// saturated to int32 before requantization, which matches TFLite wherever TFLite's own int32
// accumulator does not overflow.
void conv_2d_uint8(const Conv2dParams& params, const uint8_t* input, const uint8_t* weights,
                   const int32_t* bias, uint8_t* output, int64_t row_begin, int64_t row_end);
void conv_2d_int8(const Conv2dParams& params, const int8_t* input, const int8_t* weights,
                  const int32_t* bias, int8_t* output, int64_t row_begin, int64_t row_end);
// Sums in float in TFLite's reference order (filter y, filter x, input channel), then adds the
// bias and clamps.
void conv_2d_float(const Conv2dParams& params, const float* input, const float* weights,
                   const float* bias, float* output, int64_t row_begin, int64_t row_end);

}  // namespace ref
}  // namespace qseg::kernels

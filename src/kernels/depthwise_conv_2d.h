// DEPTHWISE_CONV_2D: the parameters prepared once from the graph, and the reference kernels.
// Layouts: input [N,H,W,I], weights [1,KH,KW,O], bias [O], output [N,OH,OW,O] with
// O = I * depth_multiplier and output channel oc = ic * depth_multiplier + m.
#pragma once

#include <cstdint>

#include "kernels/conv_quantization.h"
#include "kernels/shape.h"
#include "qseg/graph.h"
#include "qseg/status.h"
#include "quant/quant.h"

namespace qseg::kernels {

struct DepthwiseConv2dParams {
  DataType type = DataType::kFloat32;  // of input, weights and output: uint8, int8 or float32
  Nhwc input;
  Nhwc output;
  Window2d window;
  int32_t depth_multiplier = 1;
  bool has_bias = false;
  ConvQuantization quantization;             // uint8 and int8 kernels
  quant::FloatRange float_activation_range;  // float32 kernel

  // The unit of work the kernels are split into: one output row of one image.
  int64_t rows() const { return int64_t{output.batch} * output.height; }
};

// Inputs: input, weights, bias (optional). Options: DepthwiseConv2dOptions, whose
// depth_multiplier must equal weights channels / input channels (TFLite checks the same).
// `requantization` picks the 8-bit arithmetic.
Result<DepthwiseConv2dParams> prepare_depthwise_conv_2d(
    const Graph& graph, const Op& op, Requantization requantization = Requantization::kFixedPoint);

namespace ref {

// Each computes output rows [row_begin, row_end) of rows(); bias may be null. Quantized
// accumulators are 64-bit, saturated to int32 before requantization (see conv_2d.h).
void depthwise_conv_2d_uint8(const DepthwiseConv2dParams& params, const uint8_t* input,
                             const uint8_t* weights, const int32_t* bias, uint8_t* output,
                             int64_t row_begin, int64_t row_end);
void depthwise_conv_2d_int8(const DepthwiseConv2dParams& params, const int8_t* input,
                            const int8_t* weights, const int32_t* bias, int8_t* output,
                            int64_t row_begin, int64_t row_end);
// Sums in float in TFLite's reference order (filter y, filter x), then adds the bias and clamps.
void depthwise_conv_2d_float(const DepthwiseConv2dParams& params, const float* input,
                             const float* weights, const float* bias, float* output,
                             int64_t row_begin, int64_t row_end);

}  // namespace ref
}  // namespace qseg::kernels

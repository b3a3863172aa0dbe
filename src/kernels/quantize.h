// QUANTIZE and DEQUANTIZE: the parameters prepared once from the graph, and the reference
// kernels. QUANTIZE: float32 -> uint8/int8, or requantization between uint8 and int8 (either
// direction, or to the same type with new parameters). DEQUANTIZE: uint8/int8 -> float32.
#pragma once

#include <cstdint>

#include "qseg/graph.h"
#include "qseg/status.h"
#include "quant/quant.h"

namespace qseg::kernels {

struct QuantizeParams {
  DataType input_type = DataType::kFloat32;  // float32, uint8 or int8
  DataType output_type = DataType::kUInt8;   // uint8 or int8
  int64_t size = 0;
  // Float input: out = quantize_value(x, output_scale, output_zero_point).
  float output_scale = 1.0f;
  int32_t output_zero_point = 0;
  // Integer input: out = requantize(x, input_zero_point, multiplier, output_zero_point).
  int32_t input_zero_point = 0;
  quant::FixedPointMultiplier multiplier;  // of input_scale / output_scale, in double
  quant::QuantizedRange range;             // of the output type
  // Set at prepare for Requantization::kXnnpack between equal types when XNNPACK's
  // 8-fractional-bit conversion's multiplier is representable: out = quant::float_convert(x,
  // convert, range). Otherwise the fixed-point requantize above.
  bool use_float_convert = false;
  quant::FloatConvert convert;
};

struct DequantizeParams {
  DataType input_type = DataType::kUInt8;  // uint8 or int8
  int64_t size = 0;
  float scale = 1.0f;
  int32_t zero_point = 0;
};

// Input and output must have the same shape. `requantization` picks the 8-bit to 8-bit arithmetic.
Result<QuantizeParams> prepare_quantize(
    const Graph& graph, const Op& op, Requantization requantization = Requantization::kFixedPoint);
Result<DequantizeParams> prepare_dequantize(const Graph& graph, const Op& op);

namespace ref {

// Each converts elements [begin, end). Input and output types are those of the params (the
// kernel casts the pointers); quantize_* dispatch on input_type/output_type internally.
void quantize(const QuantizeParams& params, const void* input, void* output, int64_t begin,
              int64_t end);
// out = scale * (q - zero_point) in float (bit-identical to TFLite's double product rounded to
// float, as |q - zero_point| < 2^9 makes the product exact in double).
void dequantize(const DequantizeParams& params, const void* input, float* output, int64_t begin,
                int64_t end);

}  // namespace ref
}  // namespace qseg::kernels

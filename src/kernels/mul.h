// MUL: the parameters prepared once from the graph, and the reference kernels. Inputs of the same
// shape, or of shapes that broadcast NumPy-style (kernels/broadcast.h), e.g. squeeze-excite's
// [1,1,1,C] per-channel scale over a [1,H,W,C] activation.
#pragma once

#include <cstdint>
#include <optional>

#include "kernels/broadcast.h"
#include "qseg/graph.h"
#include "qseg/requantization.h"
#include "qseg/status.h"
#include "quant/elementwise.h"

namespace qseg::kernels {

struct MulParams : BroadcastShape {
  DataType type = DataType::kFloat32;   // of both inputs and the output: uint8, int8 or float32
  int64_t size = 0;                     // output elements
  quant::MulQuantization quantization;  // uint8 and int8 kernels: TFLite's built-in arithmetic
  // Set when the requantization is Requantization::kXnnpack and XNNPACK takes these scales: the
  // 8-bit kernels then compute quant::mul_xnnpack instead of quant::mul_quantized.
  std::optional<quant::XnnpackMul> xnnpack;
  quant::QuantizedRange activation_range;
  quant::FloatRange float_activation_range;  // float32 kernel
};

// Inputs: two tensors. Options: MulOptions. `requantization` picks the 8-bit arithmetic.
Result<MulParams> prepare_mul(const Graph& graph, const Op& op,
                              Requantization requantization = Requantization::kFixedPoint);

namespace ref {

// Each computes output elements [begin, end) (flat, row-major); float32 multiplies and clamps.
void mul_uint8(const MulParams& params, const uint8_t* input1, const uint8_t* input2,
               uint8_t* output, int64_t begin, int64_t end);
void mul_int8(const MulParams& params, const int8_t* input1, const int8_t* input2, int8_t* output,
              int64_t begin, int64_t end);
void mul_float(const MulParams& params, const float* input1, const float* input2, float* output,
               int64_t begin, int64_t end);

}  // namespace ref
}  // namespace qseg::kernels

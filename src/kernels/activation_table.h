// What HARD_SWISH and LOGISTIC share: one value in, one out, elementwise; 8-bit types map each
// value through a table computed at prepare (quant/elementwise.h), float32 computes the expression.
#pragma once

#include <cstdint>

#include "kernels/op_checks.h"
#include "qseg/graph.h"
#include "qseg/requantization.h"
#include "qseg/status.h"
#include "quant/elementwise.h"

namespace qseg::kernels {

struct ActivationTableParams {
  DataType type = DataType::kFloat32;  // of the input and the output: uint8, int8 or float32
  int64_t size = 0;                    // elements
  quant::LookupTable table{};          // 8-bit types: output byte of input byte q at q - qmin
  // float32: the formula of XNNPACK (kXnnpack) or of TFLite's built-in kernel (kFixedPoint).
  Requantization requantization = Requantization::kFixedPoint;
};

// The input and output (one each, same type and shape; uint8, int8 or float32) and, for 8-bit
// types, their per-tensor quantization.
struct UnaryOperands {
  const Tensor* input = nullptr;
  const Tensor* output = nullptr;
  TensorQuantization in, out;  // 8-bit types only
};
Result<UnaryOperands> unary_operands(const Graph& graph, const Op& op);

namespace ref {

// Elements [begin, end) of an 8-bit type through params.table.
void lookup_8bit(const ActivationTableParams& params, const uint8_t* input, uint8_t* output,
                 int64_t begin, int64_t end);

}  // namespace ref
}  // namespace qseg::kernels

// HARD_SWISH (x * relu6(x + 3) / 6): prepare and the float reference kernel; 8-bit types use
// the table lookup of kernels/activation_table.h.
#pragma once

#include <cstdint>

#include "kernels/activation_table.h"

namespace qseg::kernels {

// One input, one output of its type and shape. 8-bit: TFLite's built-in fixed-point arithmetic
// (XNNPACK's delegate leaves 8-bit HARD_SWISH to it), which needs input_scale / output_scale
// below 128.
Result<ActivationTableParams> prepare_hard_swish(
    const Graph& graph, const Op& op, Requantization requantization = Requantization::kFixedPoint);

namespace ref {

// Elements [begin, end).
void hard_swish_float(const ActivationTableParams& params, const float* input, float* output,
                      int64_t begin, int64_t end);

}  // namespace ref
}  // namespace qseg::kernels

// LOGISTIC (1 / (1 + e^-x)): prepare and the float reference kernel; 8-bit types use the table
// lookup of kernels/activation_table.h.
#pragma once

#include <cstdint>

#include "kernels/activation_table.h"

namespace qseg::kernels {

// One input, one output of its type and shape. 8-bit outputs have scale 1/256 and zero point 0
// (uint8) or -128 (int8), as TFLite requires; the table is XNNPACK's (kXnnpack) or TFLite's
// built-in one.
Result<ActivationTableParams> prepare_logistic(
    const Graph& graph, const Op& op, Requantization requantization = Requantization::kFixedPoint);

namespace ref {

// Elements [begin, end).
void logistic_float(const ActivationTableParams& params, const float* input, float* output,
                    int64_t begin, int64_t end);

}  // namespace ref
}  // namespace qseg::kernels

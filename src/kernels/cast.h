// CAST: the parameters prepared once from the graph, and the reference kernel. Values are
// converted as C++'s static_cast converts them (TFLite's CAST), never through quantization
// parameters: uint8 200 becomes float 200.0, float 3.7 becomes int32 3.
#pragma once

#include <cstdint>

#include "qseg/graph.h"
#include "qseg/status.h"

namespace qseg::kernels {

struct CastParams {
  DataType input_type = DataType::kFloat32;
  DataType output_type = DataType::kInt32;
  int64_t size = 0;
};

// Input and output: float32, int32, int64, int16, uint8, int8 or bool, the same shape. Rules:
// - float to integer truncates toward zero; values outside the integer type saturate and NaN
//   becomes 0 (TFLite leaves both undefined: its static_cast is undefined behaviour there);
// - integer to a narrower integer keeps the low bits (two's complement wrap, as static_cast);
// - to bool: value != 0; from bool: 0 or 1.
Result<CastParams> prepare_cast(const Graph& graph, const Op& op);

namespace ref {

// Converts elements [begin, end).
void cast(const CastParams& params, const void* input, void* output, int64_t begin, int64_t end);

}  // namespace ref
}  // namespace qseg::kernels

// ARG_MAX: the parameters prepared once from the graph, and the reference kernels. Viewed around
// the axis, the input is [outer, axis_size, inner] and the output [outer, inner].
#pragma once

#include <cstdint>

#include "qseg/graph.h"
#include "qseg/status.h"

namespace qseg::kernels {

struct ArgMaxParams {
  DataType input_type = DataType::kUInt8;   // uint8, int8 or float32
  DataType output_type = DataType::kInt64;  // int32 or int64
  int32_t axis = 0;                         // normalized to [0, rank)
  int64_t outer = 0;
  int64_t axis_size = 0;  // >= 1
  int64_t inner = 0;
};

// Inputs: input, axis (constant int32 or int64 holding one value, negative counts from the end).
// Options: ArgMaxOptions, optional; when present its output_type must be the output's type.
// Output shape: the input's without the axis.
Result<ArgMaxParams> prepare_arg_max(const Graph& graph, const Op& op);

namespace ref {

// Computes outputs for outer indices [outer_begin, outer_end): the index of the largest value
// along the axis, the first (lowest) one on ties (TFLite compares with std::greater; a NaN is
// never greater, so it is picked only at index 0). `output` is int32_t* or int64_t* per
// output_type, and `input` per input_type.
void arg_max(const ArgMaxParams& params, const void* input, void* output, int64_t outer_begin,
             int64_t outer_end);

}  // namespace ref
}  // namespace qseg::kernels

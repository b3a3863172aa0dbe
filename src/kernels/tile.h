// TILE: the parameters prepared once from the graph, and the reference kernel. The output repeats
// the input multiples[d] times along every dimension d; elements are copied as they are (any type,
// quantization untouched), as TFLite's TILE does.
#pragma once

#include <cstdint>
#include <vector>

#include "qseg/graph.h"
#include "qseg/status.h"

namespace qseg::kernels {

struct TileParams {
  int64_t element_bytes = 1;
  // Every shape viewed as rank >= 1 (a scalar as [1]).
  std::vector<int32_t> input_shape;
  std::vector<int32_t> output_shape;
  std::vector<int64_t> input_strides;  // in elements
  int64_t rows = 0;                    // output rows: every output dim but the last

  int64_t row_elements() const { return output_shape.back(); }
};

// Inputs: input (any type), multiples (constant int32 or int64 [rank], every value >= 0).
// Output: the input's type, shape input[d] * multiples[d].
Result<TileParams> prepare_tile(const Graph& graph, const Op& op);

namespace ref {

// Writes output rows [row_begin, row_end): each is the matching input row (coordinates modulo
// the input's dims) repeated multiples[last] times, one memcpy per repetition.
void tile(const TileParams& params, const void* input, void* output, int64_t row_begin,
          int64_t row_end);

}  // namespace ref
}  // namespace qseg::kernels

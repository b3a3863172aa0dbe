// PAD and PADV2: the parameters prepared once from the graph, and the reference kernel. The output
// holds the input surrounded by paddings[d] = (before, after) elements along every dimension d,
// filled with the pad value; input elements are copied as they are (quantization untouched).
#pragma once

#include <cstdint>
#include <vector>

#include "qseg/graph.h"
#include "qseg/status.h"

namespace qseg::kernels {

struct PadParams {
  int64_t element_bytes = 1;
  // Every shape viewed as rank >= 1 (a scalar as [1]).
  std::vector<int32_t> input_shape;
  std::vector<int32_t> output_shape;
  std::vector<int32_t> before;         // padding before the input, per dimension
  std::vector<int64_t> input_strides;  // in elements
  int64_t rows = 0;                    // output rows: every output dim but the last
  // One full output row of the pad value: padded rows and the two ends of the others are copied
  // from it.
  std::vector<uint8_t> pad_row;
};

// PAD inputs: input, paddings (constant int32 or int64 [rank, 2], every value >= 0). The pad value
// is 0 for float32 and int32/int64, the output's zero point for uint8 and int8 (TFLite's rule).
// PADV2 inputs: input, paddings, and optionally constant_values (a constant scalar or [1] of the
// input's type, copied as is; absent: PAD's value). Output: the input's type, shape
// before + input + after. Types: float32, int32, int64, uint8, int8.
Result<PadParams> prepare_pad(const Graph& graph, const Op& op);

namespace ref {

// Writes output rows [row_begin, row_end): a row outside the input is all pad value; an inner row
// is pad, the input row, pad.
void pad(const PadParams& params, const void* input, void* output, int64_t row_begin,
         int64_t row_end);

}  // namespace ref
}  // namespace qseg::kernels

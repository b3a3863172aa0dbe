// CONCATENATION: the parameters prepared once from the graph, and the reference kernels.
// Viewed around the axis, every tensor is [outer, axis_size * inner]; output row o is input 0's
// row o, then input 1's row o, and so on.
#pragma once

#include <cstdint>
#include <vector>

#include "qseg/graph.h"
#include "qseg/status.h"
#include "quant/quant.h"

namespace qseg::kernels {

struct ConcatenationInput {
  int64_t row_size = 0;       // elements of this input per outer index (its axis dim * inner)
  int64_t output_offset = 0;  // where that row starts within the output row, in elements
  // 8-bit inputs whose scale or zero point differs from the output's are rescaled, as TFLite's
  // ConcatenationWithScaling does (quant::apply_float_rescale); the others are copied.
  bool rescale = false;
  quant::FloatRescale rescale_params;
};

struct ConcatenationParams {
  DataType type = DataType::kFloat32;  // of every input and the output
  int32_t axis = 0;                    // normalized to [0, rank)
  int64_t outer = 0;                   // product of the dims before the axis
  int64_t output_row_size = 0;         // output axis dim * inner
  std::vector<ConcatenationInput> inputs;
  quant::QuantizedRange range;  // of an 8-bit type
};

// Inputs: one or more tensors of the same type and rank, equal dims except along the axis.
// Options: ConcatenationOptions; the axis may be negative (from the end); the activation must be
// NONE. Types: float32, uint8, int8 (rescaled as needed), int32, int64 (copied).
Result<ConcatenationParams> prepare_concatenation(const Graph& graph, const Op& op);

namespace ref {

// Writes input `index`'s rows [outer_begin, outer_end) into the output.
void concatenation_uint8(const ConcatenationParams& params, int index, const uint8_t* input,
                         uint8_t* output, int64_t outer_begin, int64_t outer_end);
void concatenation_int8(const ConcatenationParams& params, int index, const int8_t* input,
                        int8_t* output, int64_t outer_begin, int64_t outer_end);
// Any type copied as is (float32, int32, int64, or 8-bit inputs with the output's parameters).
void concatenation_copy(const ConcatenationParams& params, int index, const void* input,
                        void* output, int64_t outer_begin, int64_t outer_end);

}  // namespace ref
}  // namespace qseg::kernels

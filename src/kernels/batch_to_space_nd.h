// BATCH_TO_SPACE_ND: the parameters prepared once from the graph, and the reference kernel; the
// inverse of SPACE_TO_BATCH_ND. Input batch (sh * block_w + sw) * N + n holds the phase (sh, sw)
// of output batch n, then crops are cut off:
//   out[n, y, x, c] = in[(sh * block_w + sw) * N + n, (y + crop_top) / block_h,
//                        (x + crop_left) / block_w, c],  sh = (y + crop_top) % block_h, ...
// Elements are copied as they are.
#pragma once

#include <cstdint>

#include "kernels/shape.h"
#include "qseg/graph.h"
#include "qseg/status.h"

namespace qseg::kernels {

struct BatchToSpaceNdParams {
  int64_t element_bytes = 1;
  Nhwc input;  // a rank-3 [N,H,C] as [N,H,1,C]
  Nhwc output;
  int32_t block_h = 1, block_w = 1;
  int32_t crop_top = 0, crop_left = 0;

  int64_t output_rows() const { return int64_t{output.batch} * output.height; }
};

// Inputs: input (rank 4, or rank 3 with one spatial dim; batch a multiple of the block size),
// block_shape (constant int32/int64 [spatial dims], >= 1), crops (constant [spatial dims, 2],
// >= 0, together at most the spatial dim times the block). Types: float32, int32, int64, uint8,
// int8.
Result<BatchToSpaceNdParams> prepare_batch_to_space_nd(const Graph& graph, const Op& op);

namespace ref {

// Writes output rows [row_begin, row_end) of output_rows(), one pixel per memcpy.
void batch_to_space_nd(const BatchToSpaceNdParams& params, const void* input, void* output,
                       int64_t row_begin, int64_t row_end);

}  // namespace ref
}  // namespace qseg::kernels

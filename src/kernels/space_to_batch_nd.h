// SPACE_TO_BATCH_ND: the parameters prepared once from the graph, and the reference kernel. The
// input [N,H,W,C], padded by paddings, is cut into block_h x block_w phases that become batches:
//   out[(sh * block_w + sw) * N + n, y, x, c] = padded[n, y * block_h + sh, x * block_w + sw, c]
// (TFLite's layout). Padding holds 0 (float, int32, int64) or the output's zero point (uint8,
// int8); elements are copied as they are.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/shape.h"
#include "qseg/graph.h"
#include "qseg/status.h"

namespace qseg::kernels {

struct SpaceToBatchNdParams {
  int64_t element_bytes = 1;
  Nhwc input;  // a rank-3 [N,H,C] as [N,H,1,C]
  Nhwc output;
  int32_t block_h = 1, block_w = 1;
  int32_t pad_top = 0, pad_left = 0;
  std::vector<uint8_t> pad_pixel;  // channels elements of the pad value

  int64_t output_rows() const { return int64_t{output.batch} * output.height; }
};

// Inputs: input (rank 4, or rank 3 with one spatial dim), block_shape (constant int32/int64
// [spatial dims], >= 1), paddings (constant [spatial dims, 2], >= 0); each padded spatial dim a
// multiple of its block. Types: float32, int32, int64, uint8, int8.
Result<SpaceToBatchNdParams> prepare_space_to_batch_nd(const Graph& graph, const Op& op);

// The block shape (as [block_h, block_w]) and the (before, after) pairs of a SPACE_TO_BATCH_ND or
// BATCH_TO_SPACE_ND op (`pairs_role`: "paddings" or "crops"), for an input of `rank` 3 or 4.
struct BlockShape {
  int32_t block_h = 1, block_w = 1;
  int32_t before_h = 0, after_h = 0, before_w = 0, after_w = 0;
};
Result<BlockShape> read_block_shape(const Graph& graph, const Op& op, size_t rank,
                                    std::string_view pairs_role);

namespace ref {

// Writes output rows [row_begin, row_end) of output_rows(), one pixel (channels elements) per
// memcpy.
void space_to_batch_nd(const SpaceToBatchNdParams& params, const void* input, void* output,
                       int64_t row_begin, int64_t row_end);

}  // namespace ref
}  // namespace qseg::kernels

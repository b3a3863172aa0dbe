// RESIZE_NEAREST_NEIGHBOR: the parameters (the source row and column of every output row and
// column) prepared once from the graph, and the reference kernel. Elements are copied as they are
// (any type, quantization untouched).
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/shape.h"
#include "qseg/graph.h"
#include "qseg/status.h"

namespace qseg::kernels {

struct ResizeNearestNeighborParams {
  int64_t element_bytes = 1;
  Nhwc input;
  Nhwc output;
  std::vector<int32_t> source_rows;     // one input row per output row
  std::vector<int32_t> source_columns;  // one input column per output column

  int64_t output_rows() const { return int64_t{output.batch} * output.height; }
};

// The input index TFLite's reference kernel samples for output index `i`, in float:
// scale = in / out, or (in - 1) / (out - 1) with align_corners and out > 1; offset = 0.5 with
// half_pixel_centers, else 0; src = round((i + offset) * scale) with align_corners (half away
// from zero), else floor((i + offset) * scale); then min(src, in - 1), and max(src, 0) with
// half_pixel_centers.
int32_t nearest_source_index(int32_t i, int32_t input_size, int32_t output_size, bool align_corners,
                             bool half_pixel_centers);
// TFLite's optimized uint8 kernel (used when neither flag is set): scale = (in << 16) / out + 1
// in int32, src = min((i * scale) >> 16, in - 1). It differs from the float rule for some sizes
// (in 2, out 82, i 41: float 0, fixed point 1).
int32_t nearest_source_index_fixed_point(int32_t i, int32_t input_size, int32_t output_size);

// Inputs: input [N,H,W,C] (float32, uint8, int8, int32, int64), size (constant int32 [2]: new
// height, new width, >= 1). Options: ResizeNearestNeighborOptions (absent: neither flag; both is
// an error). uint8 without either flag samples as TFLite's optimized uint8 kernel, every other
// case as its reference kernel.
Result<ResizeNearestNeighborParams> prepare_resize_nearest_neighbor(const Graph& graph,
                                                                    const Op& op);

namespace ref {

// Writes output rows [row_begin, row_end) of output_rows(), one pixel per memcpy (a whole row
// when it repeats the previous output row's source).
void resize_nearest_neighbor(const ResizeNearestNeighborParams& params, const void* input,
                             void* output, int64_t row_begin, int64_t row_end);

}  // namespace ref
}  // namespace qseg::kernels

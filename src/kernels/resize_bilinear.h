// RESIZE_BILINEAR: the parameters (with the interpolation tables) prepared once from the graph,
// and the reference kernels.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/shape.h"
#include "qseg/graph.h"
#include "qseg/status.h"
#include "quant/quant.h"

namespace qseg::kernels {

// Where one output row (or column) samples the input, as TFLite's ComputeInterpolationValues
// computes it in float: src = dst * scale, or (dst + 0.5) * scale - 0.5 with half-pixel centers;
// lower = max(floor(src), 0), upper = min(ceil(src), size - 1), fraction = src - lower. With
// half-pixel centers src can be negative (fraction < 0); lower == upper then, so the two weights
// 1 - fraction and fraction still sum to one over the same pixel.
struct InterpolationTap {
  int32_t lower = 0;
  int32_t upper = 0;
  float fraction = 0.0f;
};

struct ResizeBilinearParams {
  DataType type = DataType::kFloat32;  // of input and output: uint8, int8 or float32
  Nhwc input;
  Nhwc output;
  std::vector<InterpolationTap> rows;     // one per output row
  std::vector<InterpolationTap> columns;  // one per output column
  quant::QuantizedRange range;            // of the quantized type

  int64_t output_rows() const { return int64_t{output.batch} * output.height; }
};

// Inputs: input [N,H,W,C], size (constant int32 [2]: new height, new width). Options:
// ResizeBilinearOptions (absent: neither align_corners nor half_pixel_centers; both is an
// error). Scale = in / out, or (in - 1) / (out - 1) with align_corners and out > 1, in float.
// A quantized output must have the input's scale and zero point.
Result<ResizeBilinearParams> prepare_resize_bilinear(const Graph& graph, const Op& op);

namespace ref {

// Each computes output rows [row_begin, row_end) of output_rows(), in float with TFLite's
// weights and evaluation order:
//   v = in(y0,x0)*(1-dy)*(1-dx) + in(y1,x0)*dy*(1-dx) + in(y0,x1)*(1-dy)*dx + in(y1,x1)*dy*dx.
// Quantized outputs round v to nearest (half away from zero) and clamp. TFLite's reference
// uint8 kernel truncates instead (and its int8 one uses 10-bit fixed-point weights), while the
// XNNPACK delegate TFLite applies by default rounds; qseg rounds, matching the default path
// within its own fixed-point weight rounding.
void resize_bilinear_uint8(const ResizeBilinearParams& params, const uint8_t* input,
                           uint8_t* output, int64_t row_begin, int64_t row_end);
void resize_bilinear_int8(const ResizeBilinearParams& params, const int8_t* input, int8_t* output,
                          int64_t row_begin, int64_t row_end);
void resize_bilinear_float(const ResizeBilinearParams& params, const float* input, float* output,
                           int64_t row_begin, int64_t row_end);

}  // namespace ref
}  // namespace qseg::kernels

// RESIZE_BILINEAR: the parameters (with the interpolation tables) prepared once from the graph,
// and the reference kernels.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/shape.h"
#include "qseg/graph.h"
#include "qseg/requantization.h"
#include "qseg/status.h"
#include "quant/quant.h"

namespace qseg::kernels {

// Where one output row (or column) samples the input, as TFLite's ComputeInterpolationValues
// computes it in float: src = dst * scale, or (dst + 0.5) * scale - 0.5 with half-pixel centers;
// lower = max(floor(src), 0), upper = min(ceil(src), size - 1), fraction = src - lower. With
// half-pixel centers src can be negative (fraction < 0); lower == upper then, so the two weights
// 1 - fraction and fraction still sum to one over the same pixel.
// q11 is the same fraction as XNNPACK's int8 kernel weighs it: round(max(fraction, 0) * 2^11),
// half to even (XNNPACK clamps a negative source to 0; lower == upper there, so nothing changes).
struct InterpolationTap {
  int32_t lower = 0;
  int32_t upper = 0;
  float fraction = 0.0f;
  int32_t q11 = 0;
};

struct ResizeBilinearParams {
  DataType type = DataType::kFloat32;  // of input and output: uint8, int8 or float32
  Nhwc input;
  Nhwc output;
  std::vector<InterpolationTap> rows;     // one per output row
  std::vector<InterpolationTap> columns;  // one per output column
  quant::QuantizedRange range;            // of the quantized type
  // uint8 or int8 with Requantization::kXnnpack: XNNPACK's resize (TFLite's XNNPACK delegate
  // takes both), see ref:: below.
  bool xnnpack = false;
  // Every fraction a multiple of 1/256 (e.g. 1/16 for 33 -> 513 or 21 -> 321 with corners
  // aligned): each product and sum of the float interpolation is then exact, so it equals
  // XNNPACK's for non-negative results (uint8), and the optimized float kernels stand in for it.
  bool exact_interpolation = false;

  int64_t output_rows() const { return int64_t{output.batch} * output.height; }
};

// Inputs: input [N,H,W,C], size (constant int32 [2]: new height, new width). Options:
// ResizeBilinearOptions (absent: neither align_corners nor half_pixel_centers; both is an
// error). Scale = in / out, or (in - 1) / (out - 1) with align_corners and out > 1, in float.
// A quantized output must have the input's scale and zero point.
Result<ResizeBilinearParams> prepare_resize_bilinear(
    const Graph& graph, const Op& op, Requantization requantization = Requantization::kFixedPoint);

// XNNPACK's int8 bilinear interpolation with 11-bit weights: t = (tl << 11) + (tr - tl) * wx,
// b likewise, out = ((t << 11) + (b - t) * wy + 2^21) >> 22 (arithmetic: rounds half up).
inline int32_t xnnpack_bilinear_q11(int32_t tl, int32_t tr, int32_t bl, int32_t br, int32_t wx,
                                    int32_t wy) {
  const int32_t t = tl * 2048 + (tr - tl) * wx;
  const int32_t b = bl * 2048 + (br - bl) * wx;
  return (t * 2048 + (b - t) * wy + (1 << 21)) >> 22;
}

namespace ref {

// Each computes output rows [row_begin, row_end) of output_rows(), in float with TFLite's
// weights and evaluation order:
//   v = in(y0,x0)*(1-dy)*(1-dx) + in(y1,x0)*dy*(1-dx) + in(y0,x1)*(1-dy)*dx + in(y1,x1)*dy*dx.
// Quantized outputs round v to nearest (half away from zero) and clamp. uint8 and int8 with
// params.xnnpack are XNNPACK's kernel instead (xnnpack_bilinear_q11): what the real TFLite
// computes for both, measured on every shared photo through the DeepLabV3+ decoder's resize at
// 384x640 (24x40 -> 96x160, corners aligned: scales 23/95 and 39/159, where the two differ).
void resize_bilinear_uint8(const ResizeBilinearParams& params, const uint8_t* input,
                           uint8_t* output, int64_t row_begin, int64_t row_end);
void resize_bilinear_int8(const ResizeBilinearParams& params, const int8_t* input, int8_t* output,
                          int64_t row_begin, int64_t row_end);
void resize_bilinear_float(const ResizeBilinearParams& params, const float* input, float* output,
                           int64_t row_begin, int64_t row_end);

}  // namespace ref
}  // namespace qseg::kernels

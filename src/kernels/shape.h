// Shape helpers shared by the kernels: NHWC dims, and TFLite's SAME/VALID window arithmetic
// (output size and padding, with dilation) for convolution and pooling.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "qseg/graph.h"
#include "qseg/status.h"

namespace qseg::kernels {

struct Nhwc {
  int32_t batch = 0;
  int32_t height = 0;
  int32_t width = 0;
  int32_t channels = 0;

  int64_t elements() const { return int64_t{batch} * height * width * channels; }
  std::vector<int32_t> shape() const { return {batch, height, width, channels}; }
};

// The dims of a rank-4 tensor; an error naming `role` ("input", "weights", ...) otherwise.
Result<Nhwc> nhwc_dims(const Tensor& tensor, std::string_view role);

// "[1,33,33,256]".
std::string shape_string(const std::vector<int32_t>& shape);

// A 2-D window (filter) sliding over H and W: what convolution and pooling share. Input pixel of
// output (y, x) and filter tap (fy, fx) is (y * stride_h - pad_top + fy * dilation_h, ...); taps
// outside the input are skipped (zero padding for convolutions, excluded from pooling's count).
struct Window2d {
  int32_t filter_h = 1, filter_w = 1;
  int32_t stride_h = 1, stride_w = 1;
  int32_t dilation_h = 1, dilation_w = 1;
  int32_t pad_top = 0, pad_left = 0;
  int32_t output_h = 0, output_w = 0;
};

// TFLite's ComputeOutSize and ComputePaddingHeightWidth: effective filter size
// eff = (filter - 1) * dilation + 1; SAME: out = ceil(in / stride); VALID: out = (in - eff +
// stride) / stride; pad_total = max((out - 1) * stride + eff - in, 0), pad_before = pad_total / 2
// (the odd pixel goes after). Errors for non-positive filter, stride or dilation, and for a VALID
// window larger than the input. Sizes are computed in 64 bits and must fit in int32.
Result<Window2d> make_window(Padding padding, int32_t input_h, int32_t input_w, int32_t filter_h,
                             int32_t filter_w, int32_t stride_h, int32_t stride_w,
                             int32_t dilation_h, int32_t dilation_w);

}  // namespace qseg::kernels

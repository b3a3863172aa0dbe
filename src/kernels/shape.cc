// NHWC dims and TFLite's SAME/VALID output size and padding arithmetic.
#include "kernels/shape.h"

#include <algorithm>
#include <limits>

namespace qseg::kernels {

Result<Nhwc> nhwc_dims(const Tensor& tensor, std::string_view role) {
  if (tensor.shape.size() != 4) {
    return Status::error(std::string(role) + " must have rank 4 (NHWC), got shape " +
                         shape_string(tensor.shape));
  }
  return Nhwc{tensor.shape[0], tensor.shape[1], tensor.shape[2], tensor.shape[3]};
}

std::string shape_string(const std::vector<int32_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) s += ",";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

namespace {

struct Axis1d {
  int32_t output = 0;
  int32_t pad_before = 0;
};

Result<Axis1d> window_axis(Padding padding, int64_t input, int64_t filter, int64_t stride,
                           int64_t dilation, const char* axis) {
  const std::string name(axis);
  if (filter < 1)
    return Status::error("filter " + name + " must be positive, got " + std::to_string(filter));
  if (stride < 1)
    return Status::error("stride " + name + " must be positive, got " + std::to_string(stride));
  if (dilation < 1) {
    return Status::error("dilation " + name + " must be positive, got " + std::to_string(dilation));
  }
  // filter and dilation are < 2^31, so the product fits in 64 bits.
  const int64_t effective = (filter - 1) * dilation + 1;
  int64_t output = 0;
  if (padding == Padding::kSame) {
    output = (input + stride - 1) / stride;
  } else {
    if (effective > input) {
      return Status::error("VALID padding with effective filter " + name + " " +
                           std::to_string(effective) + " larger than the input " + name + " " +
                           std::to_string(input));
    }
    output = (input - effective + stride) / stride;
  }
  // Every input coordinate a kernel computes lies in [-pad_before, span), so int32 arithmetic
  // on coordinates cannot overflow once span fits.
  const int64_t span = (output - 1) * stride + effective;
  if (span > std::numeric_limits<int32_t>::max()) {
    return Status::error("window " + name + " spans " + std::to_string(span) +
                         " pixels, more than 32-bit coordinates allow");
  }
  const int64_t total = std::max<int64_t>(span - input, 0);
  return Axis1d{static_cast<int32_t>(output), static_cast<int32_t>(total / 2)};
}

}  // namespace

Result<Window2d> make_window(Padding padding, int32_t input_h, int32_t input_w, int32_t filter_h,
                             int32_t filter_w, int32_t stride_h, int32_t stride_w,
                             int32_t dilation_h, int32_t dilation_w) {
  QSEG_ASSIGN_OR_RETURN(const Axis1d h,
                        window_axis(padding, input_h, filter_h, stride_h, dilation_h, "height"));
  QSEG_ASSIGN_OR_RETURN(const Axis1d w,
                        window_axis(padding, input_w, filter_w, stride_w, dilation_w, "width"));
  Window2d window;
  window.filter_h = filter_h;
  window.filter_w = filter_w;
  window.stride_h = stride_h;
  window.stride_w = stride_w;
  window.dilation_h = dilation_h;
  window.dilation_w = dilation_w;
  window.pad_top = h.pad_before;
  window.pad_left = w.pad_before;
  window.output_h = h.output;
  window.output_w = w.output;
  return window;
}

}  // namespace qseg::kernels

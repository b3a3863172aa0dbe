// Scalar pieces every instruction set's vector kernels share: the channels past the last whole
// vector and the planar rows of the fused resize + arg max. Compiled for the baseline CPU (never
// with an instruction set's flags), so any variant may call them.
#include <cstdint>

#include "kernels/opt/optimized.h"

namespace qseg::kernels::opt {

uint8_t depthwise_channel(const DepthwiseConv2dParams& p, const PackedDepthwise& pd,
                          const uint8_t* origin, TapRange ty, TapRange tx, int32_t c) {
  const Window2d& w = p.window;
  const int64_t row_stride = int64_t{p.input.width} * p.input.channels;
  int32_t acc = pd.bias[c];
  for (int32_t fy = ty.first; fy < ty.last; ++fy) {
    for (int32_t fx = tx.first; fx < tx.last; ++fx) {
      const uint8_t byte = origin[fy * w.dilation_h * row_stride +
                                  int64_t{fx} * w.dilation_w * p.input.channels + c];
      const int32_t x = (pd.is_signed ? static_cast<int8_t>(byte) : byte) + pd.input_offset;
      acc += x * pd.weights[static_cast<size_t>(fy * w.filter_w + fx) * pd.channels_padded + c];
    }
  }
  return static_cast<uint8_t>(requantize_scalar(pd.requant, acc, c));
}

namespace {
float value(const uint8_t* p, int64_t i, bool is_signed) {
  return is_signed ? static_cast<float>(static_cast<int8_t>(p[i])) : static_cast<float>(p[i]);
}
}  // namespace

uint8_t resize_channel(const ResizeBilinearParams& p, const uint8_t* row0, const uint8_t* row1,
                       const InterpolationTap& ty, const InterpolationTap& tx, int32_t c) {
  const bool is_signed = p.type == DataType::kInt8;
  const int64_t lo = int64_t{tx.lower} * p.input.channels + c;
  const int64_t up = int64_t{tx.upper} * p.input.channels + c;
  const float dy = ty.fraction, dx = tx.fraction;
  const float v = value(row0, lo, is_signed) * (1 - dy) * (1 - dx) +
                  value(row1, lo, is_signed) * dy * (1 - dx) +
                  value(row0, up, is_signed) * (1 - dy) * dx + value(row1, up, is_signed) * dy * dx;
  return static_cast<uint8_t>(quant::round_and_clamp(v, p.range.min, p.range.max));
}

void fill_planar_rows(const ResizeBilinearParams& p, const ResizeArgMaxPlan& plan,
                      const uint8_t* row0, const uint8_t* row1, float dy, float* a0, float* a1) {
  const bool is_signed = p.type == DataType::kInt8;
  const int32_t in_w = p.input.width, channels = p.input.channels;
  const float one_minus_dy = 1 - dy;
  for (int32_t x = 0; x < in_w; ++x) {
    for (int32_t c = 0; c < channels; ++c) {
      const int64_t at = int64_t{x} * channels + c;
      a0[int64_t{c} * plan.row_length + x] = value(row0, at, is_signed) * one_minus_dy;
      a1[int64_t{c} * plan.row_length + x] = value(row1, at, is_signed) * dy;
    }
  }
}

}  // namespace qseg::kernels::opt

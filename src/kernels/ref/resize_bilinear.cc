// RESIZE_BILINEAR reference kernels (uint8, int8, float32): TFLite's float interpolation.
#include "kernels/resize_bilinear.h"

namespace qseg::kernels::ref {

namespace {

// Stores convert(v) for the interpolated float value v of every output element of the rows.
template <typename T, typename Convert>
void resize(const ResizeBilinearParams& p, const T* input, T* output, int64_t row_begin,
            int64_t row_end, Convert convert) {
  const int32_t in_h = p.input.height, in_w = p.input.width, channels = p.input.channels;
  const int32_t out_h = p.output.height, out_w = p.output.width;
  for (int64_t row = row_begin; row < row_end; ++row) {
    const auto batch = static_cast<int32_t>(row / out_h);
    const InterpolationTap& ty = p.rows[row % out_h];
    const float dy = ty.fraction;
    const T* row0 = input + (int64_t{batch} * in_h + ty.lower) * in_w * channels;
    const T* row1 = input + (int64_t{batch} * in_h + ty.upper) * in_w * channels;
    T* out = output + row * out_w * channels;
    for (int32_t x = 0; x < out_w; ++x) {
      const InterpolationTap& tx = p.columns[x];
      const float dx = tx.fraction;
      const T* p00 = row0 + int64_t{tx.lower} * channels;
      const T* p01 = row0 + int64_t{tx.upper} * channels;
      const T* p10 = row1 + int64_t{tx.lower} * channels;
      const T* p11 = row1 + int64_t{tx.upper} * channels;
      for (int32_t c = 0; c < channels; ++c) {
        const float v = static_cast<float>(p00[c]) * (1 - dy) * (1 - dx) +
                        static_cast<float>(p10[c]) * dy * (1 - dx) +
                        static_cast<float>(p01[c]) * (1 - dy) * dx +
                        static_cast<float>(p11[c]) * dy * dx;
        out[int64_t{x} * channels + c] = convert(v);
      }
    }
  }
}

}  // namespace

void resize_bilinear_uint8(const ResizeBilinearParams& params, const uint8_t* input,
                           uint8_t* output, int64_t row_begin, int64_t row_end) {
  resize(params, input, output, row_begin, row_end, [&](float v) {
    return static_cast<uint8_t>(quant::round_and_clamp(v, params.range.min, params.range.max));
  });
}

void resize_bilinear_int8(const ResizeBilinearParams& params, const int8_t* input, int8_t* output,
                          int64_t row_begin, int64_t row_end) {
  if (params.xnnpack_int8) {
    const ResizeBilinearParams& p = params;
    const int32_t in_h = p.input.height, in_w = p.input.width, channels = p.input.channels;
    const int32_t out_h = p.output.height, out_w = p.output.width;
    for (int64_t row = row_begin; row < row_end; ++row) {
      const auto batch = static_cast<int32_t>(row / out_h);
      const InterpolationTap& ty = p.rows[row % out_h];
      const int8_t* row0 = input + (int64_t{batch} * in_h + ty.lower) * in_w * channels;
      const int8_t* row1 = input + (int64_t{batch} * in_h + ty.upper) * in_w * channels;
      int8_t* out = output + row * out_w * channels;
      for (int32_t x = 0; x < out_w; ++x) {
        const InterpolationTap& tx = p.columns[x];
        const int8_t* p00 = row0 + int64_t{tx.lower} * channels;
        const int8_t* p01 = row0 + int64_t{tx.upper} * channels;
        const int8_t* p10 = row1 + int64_t{tx.lower} * channels;
        const int8_t* p11 = row1 + int64_t{tx.upper} * channels;
        for (int32_t c = 0; c < channels; ++c) {
          out[int64_t{x} * channels + c] = static_cast<int8_t>(
              xnnpack_bilinear_q11(p00[c], p01[c], p10[c], p11[c], tx.q11, ty.q11));
        }
      }
    }
    return;
  }
  resize(params, input, output, row_begin, row_end, [&](float v) {
    return static_cast<int8_t>(quant::round_and_clamp(v, params.range.min, params.range.max));
  });
}

void resize_bilinear_float(const ResizeBilinearParams& params, const float* input, float* output,
                           int64_t row_begin, int64_t row_end) {
  resize(params, input, output, row_begin, row_end, [](float v) { return v; });
}

}  // namespace qseg::kernels::ref

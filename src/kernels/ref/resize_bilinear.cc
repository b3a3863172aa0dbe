// RESIZE_BILINEAR reference kernels (uint8, int8, float32): TFLite's float interpolation, and
// XNNPACK's 11-bit one for uint8 and int8.
#include "kernels/resize_bilinear.h"

namespace qseg::kernels::ref {

namespace {

// Stores interpolate(p00, p01, p10, p11, tx, ty) for every output element of the rows: the four
// input values around it (row y0 and y1, column x0 and x1) and its two taps.
template <typename T, typename Interpolate>
void resize_rows(const ResizeBilinearParams& p, const T* input, T* output, int64_t row_begin,
                 int64_t row_end, Interpolate interpolate) {
  const int32_t in_h = p.input.height, in_w = p.input.width, channels = p.input.channels;
  const int32_t out_h = p.output.height, out_w = p.output.width;
  for (int64_t row = row_begin; row < row_end; ++row) {
    const auto batch = static_cast<int32_t>(row / out_h);
    const InterpolationTap& ty = p.rows[row % out_h];
    const T* row0 = input + (int64_t{batch} * in_h + ty.lower) * in_w * channels;
    const T* row1 = input + (int64_t{batch} * in_h + ty.upper) * in_w * channels;
    T* out = output + row * out_w * channels;
    for (int32_t x = 0; x < out_w; ++x) {
      const InterpolationTap& tx = p.columns[x];
      const T* p00 = row0 + int64_t{tx.lower} * channels;
      const T* p01 = row0 + int64_t{tx.upper} * channels;
      const T* p10 = row1 + int64_t{tx.lower} * channels;
      const T* p11 = row1 + int64_t{tx.upper} * channels;
      for (int32_t c = 0; c < channels; ++c) {
        out[int64_t{x} * channels + c] = interpolate(p00[c], p01[c], p10[c], p11[c], tx, ty);
      }
    }
  }
}

// TFLite's float interpolation; stores convert(v).
template <typename T, typename Convert>
void resize(const ResizeBilinearParams& p, const T* input, T* output, int64_t row_begin,
            int64_t row_end, Convert convert) {
  resize_rows(
      p, input, output, row_begin, row_end,
      [&](T v00, T v01, T v10, T v11, const InterpolationTap& tx, const InterpolationTap& ty) {
        const float dy = ty.fraction, dx = tx.fraction;
        const float v = static_cast<float>(v00) * (1 - dy) * (1 - dx) +
                        static_cast<float>(v10) * dy * (1 - dx) +
                        static_cast<float>(v01) * (1 - dy) * dx + static_cast<float>(v11) * dy * dx;
        return convert(v);
      });
}

}  // namespace

void resize_bilinear_uint8(const ResizeBilinearParams& params, const uint8_t* input,
                           uint8_t* output, int64_t row_begin, int64_t row_end) {
  if (params.xnnpack) {
    resize_rows(
        params, input, output, row_begin, row_end,
        [](uint8_t v00, uint8_t v01, uint8_t v10, uint8_t v11, const InterpolationTap& tx,
           const InterpolationTap& ty) {
          return static_cast<uint8_t>(xnnpack_bilinear_q11(v00, v01, v10, v11, tx.q11, ty.q11));
        });
    return;
  }
  resize(params, input, output, row_begin, row_end, [&](float v) {
    return static_cast<uint8_t>(quant::round_and_clamp(v, params.range.min, params.range.max));
  });
}

void resize_bilinear_int8(const ResizeBilinearParams& params, const int8_t* input, int8_t* output,
                          int64_t row_begin, int64_t row_end) {
  if (params.xnnpack) {
    resize_rows(
        params, input, output, row_begin, row_end,
        [](int8_t v00, int8_t v01, int8_t v10, int8_t v11, const InterpolationTap& tx,
           const InterpolationTap& ty) {
          return static_cast<int8_t>(xnnpack_bilinear_q11(v00, v01, v10, v11, tx.q11, ty.q11));
        });
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

// SPACE_TO_BATCH_ND reference kernel: every output pixel is one input pixel or padding.
#include "kernels/space_to_batch_nd.h"

#include <cstring>

namespace qseg::kernels::ref {

void space_to_batch_nd(const SpaceToBatchNdParams& p, const void* input, void* output,
                       int64_t row_begin, int64_t row_end) {
  const auto* in = static_cast<const uint8_t*>(input);
  auto* out = static_cast<uint8_t*>(output);
  const int64_t pixel_bytes = int64_t{p.output.channels} * p.element_bytes;
  if (pixel_bytes == 0) return;
  for (int64_t row = row_begin; row < row_end; ++row) {
    const int64_t out_batch = row / p.output.height;
    const int64_t y = row % p.output.height;
    const int64_t n = out_batch % p.input.batch;
    const int64_t phase = out_batch / p.input.batch;
    const int64_t in_y = y * p.block_h + phase / p.block_w - p.pad_top;
    const int64_t shift_w = phase % p.block_w;
    uint8_t* dst = out + row * p.output.width * pixel_bytes;
    const bool row_inside = in_y >= 0 && in_y < p.input.height;
    for (int64_t x = 0; x < p.output.width; ++x, dst += pixel_bytes) {
      const int64_t in_x = x * p.block_w + shift_w - p.pad_left;
      if (!row_inside || in_x < 0 || in_x >= p.input.width) {
        std::memcpy(dst, p.pad_pixel.data(), static_cast<size_t>(pixel_bytes));
        continue;
      }
      const int64_t pixel = (n * p.input.height + in_y) * p.input.width + in_x;
      std::memcpy(dst, in + pixel * pixel_bytes, static_cast<size_t>(pixel_bytes));
    }
  }
}

}  // namespace qseg::kernels::ref

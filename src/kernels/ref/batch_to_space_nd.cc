// BATCH_TO_SPACE_ND reference kernel: every output pixel is one input pixel.
#include "kernels/batch_to_space_nd.h"

#include <cstring>

namespace qseg::kernels::ref {

void batch_to_space_nd(const BatchToSpaceNdParams& p, const void* input, void* output,
                       int64_t row_begin, int64_t row_end) {
  const auto* in = static_cast<const uint8_t*>(input);
  auto* out = static_cast<uint8_t*>(output);
  const int64_t pixel_bytes = int64_t{p.output.channels} * p.element_bytes;
  if (pixel_bytes == 0) return;
  for (int64_t row = row_begin; row < row_end; ++row) {
    const int64_t n = row / p.output.height;
    const int64_t padded_y = row % p.output.height + p.crop_top;
    const int64_t in_y = padded_y / p.block_h;
    const int64_t shift_h = padded_y % p.block_h;
    uint8_t* dst = out + row * p.output.width * pixel_bytes;
    for (int64_t x = 0; x < p.output.width; ++x, dst += pixel_bytes) {
      const int64_t padded_x = x + p.crop_left;
      const int64_t in_batch = (shift_h * p.block_w + padded_x % p.block_w) * p.output.batch + n;
      const int64_t pixel =
          (in_batch * p.input.height + in_y) * p.input.width + padded_x / p.block_w;
      std::memcpy(dst, in + pixel * pixel_bytes, static_cast<size_t>(pixel_bytes));
    }
  }
}

}  // namespace qseg::kernels::ref

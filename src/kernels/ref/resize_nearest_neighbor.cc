// RESIZE_NEAREST_NEIGHBOR reference kernel: a gather of whole pixels through the index tables.
#include "kernels/resize_nearest_neighbor.h"

#include <cstring>

namespace qseg::kernels::ref {

void resize_nearest_neighbor(const ResizeNearestNeighborParams& p, const void* input, void* output,
                             int64_t row_begin, int64_t row_end) {
  const auto* in = static_cast<const uint8_t*>(input);
  auto* out = static_cast<uint8_t*>(output);
  const int64_t pixel_bytes = int64_t{p.output.channels} * p.element_bytes;
  const int64_t out_row_bytes = p.output.width * pixel_bytes;
  if (out_row_bytes == 0) return;
  for (int64_t row = row_begin; row < row_end; ++row) {
    const int64_t n = row / p.output.height;
    const int64_t y = row % p.output.height;
    uint8_t* dst = out + row * out_row_bytes;
    // Upscaling repeats source rows: copy the previous output row when it has the same source.
    if (row > row_begin && y > 0 && p.source_rows[y] == p.source_rows[y - 1]) {
      std::memcpy(dst, dst - out_row_bytes, static_cast<size_t>(out_row_bytes));
      continue;
    }
    const uint8_t* src_row =
        in + (n * p.input.height + p.source_rows[y]) * p.input.width * pixel_bytes;
    for (int64_t x = 0; x < p.output.width; ++x) {
      std::memcpy(dst + x * pixel_bytes, src_row + p.source_columns[x] * pixel_bytes,
                  static_cast<size_t>(pixel_bytes));
    }
  }
}

}  // namespace qseg::kernels::ref

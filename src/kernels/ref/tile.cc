// TILE reference kernel: a row-by-row copy, each output row built from one input row.
#include "kernels/tile.h"

#include <cstring>

namespace qseg::kernels::ref {

void tile(const TileParams& p, const void* input, void* output, int64_t row_begin,
          int64_t row_end) {
  const auto* in = static_cast<const uint8_t*>(input);
  auto* out = static_cast<uint8_t*>(output);
  const size_t last = p.output_shape.size() - 1;
  const int64_t in_row_bytes = p.input_shape[last] * p.element_bytes;
  const int64_t out_row_bytes = p.output_shape[last] * p.element_bytes;
  if (in_row_bytes == 0 || out_row_bytes == 0) return;
  for (int64_t row = row_begin; row < row_end; ++row) {
    // The input row: each output coordinate of the outer dims modulo the input's dim.
    int64_t rest = row;
    int64_t in_offset = 0;
    for (size_t d = last; d-- > 0;) {
      const int64_t coordinate = rest % p.output_shape[d];
      rest /= p.output_shape[d];
      in_offset += (coordinate % p.input_shape[d]) * p.input_strides[d];
    }
    const uint8_t* src = in + in_offset * p.element_bytes;
    uint8_t* dst = out + row * out_row_bytes;
    for (int64_t done = 0; done < out_row_bytes; done += in_row_bytes) {
      std::memcpy(dst + done, src, static_cast<size_t>(in_row_bytes));
    }
  }
}

}  // namespace qseg::kernels::ref

// PAD and PADV2 reference kernel: each output row is either all padding or padding around one
// input row, written with two or three memcpy calls.
#include "kernels/pad.h"

#include <cstring>

namespace qseg::kernels::ref {

void pad(const PadParams& p, const void* input, void* output, int64_t row_begin, int64_t row_end) {
  const auto* in = static_cast<const uint8_t*>(input);
  auto* out = static_cast<uint8_t*>(output);
  const size_t last = p.output_shape.size() - 1;
  const int64_t out_row_bytes = p.output_shape[last] * p.element_bytes;
  const int64_t in_row_bytes = p.input_shape[last] * p.element_bytes;
  const int64_t before_bytes = p.before[last] * p.element_bytes;
  const int64_t after_bytes = out_row_bytes - before_bytes - in_row_bytes;
  if (out_row_bytes == 0) return;
  for (int64_t row = row_begin; row < row_end; ++row) {
    uint8_t* dst = out + row * out_row_bytes;
    // The input row of this output row, or none when a coordinate falls in the padding.
    int64_t rest = row;
    int64_t in_offset = 0;
    bool inside = true;
    for (size_t d = last; d-- > 0;) {
      const int64_t coordinate = rest % p.output_shape[d] - p.before[d];
      rest /= p.output_shape[d];
      if (coordinate < 0 || coordinate >= p.input_shape[d]) {
        inside = false;
        break;
      }
      in_offset += coordinate * p.input_strides[d];
    }
    if (!inside || in_row_bytes == 0) {
      std::memcpy(dst, p.pad_row.data(), static_cast<size_t>(out_row_bytes));
      continue;
    }
    std::memcpy(dst, p.pad_row.data(), static_cast<size_t>(before_bytes));
    std::memcpy(dst + before_bytes, in + in_offset * p.element_bytes,
                static_cast<size_t>(in_row_bytes));
    std::memcpy(dst + before_bytes + in_row_bytes, p.pad_row.data(),
                static_cast<size_t>(after_bytes));
  }
}

}  // namespace qseg::kernels::ref

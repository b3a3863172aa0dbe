// Byte-level helpers of the data-movement kernels (TILE, PAD, SPACE_TO_BATCH_ND, ...): they move
// whole elements and never look at values, so one implementation serves every type.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

namespace qseg::kernels {

// `count` copies of the element_bytes-wide `element` written at `dst`.
inline void fill_elements(uint8_t* dst, const uint8_t* element, int64_t element_bytes,
                          int64_t count) {
  if (count <= 0) return;
  if (element_bytes == 1) {
    std::memset(dst, element[0], static_cast<size_t>(count));
    return;
  }
  // Doubling copies: log2(count) memcpy calls after the first element.
  std::memcpy(dst, element, static_cast<size_t>(element_bytes));
  int64_t done = 1;
  while (done < count) {
    const int64_t chunk = done < count - done ? done : count - done;
    std::memcpy(dst + done * element_bytes, dst, static_cast<size_t>(chunk * element_bytes));
    done += chunk;
  }
}

// The row-major strides (in elements) of `shape`; the last is 1.
inline std::vector<int64_t> element_strides(const std::vector<int32_t>& shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (size_t i = shape.size(); i-- > 1;) strides[i - 1] = strides[i] * shape[i];
  return strides;
}

}  // namespace qseg::kernels

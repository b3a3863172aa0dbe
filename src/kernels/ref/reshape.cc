// RESHAPE reference kernel: the data does not change, only the shape, so it is a byte copy.
#include "kernels/reshape.h"

#include <cstring>

namespace qseg::kernels::ref {

void reshape(const ReshapeParams& params, const void* input, void* output) {
  if (input == output || params.bytes == 0) return;
  std::memmove(output, input, static_cast<size_t>(params.bytes));
}

}  // namespace qseg::kernels::ref

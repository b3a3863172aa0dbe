// The 8-bit table lookup of HARD_SWISH and LOGISTIC.
#include "kernels/activation_table.h"

namespace qseg::kernels::ref {
void lookup_8bit(const ActivationTableParams& p, const uint8_t* input, uint8_t* output,
                 int64_t begin, int64_t end) {
  // The table is indexed by q - qmin: the byte itself for uint8, the byte with its top bit
  // flipped for int8 (q + 128).
  const uint8_t flip = p.type == DataType::kInt8 ? 0x80 : 0;
  for (int64_t i = begin; i < end; ++i) output[i] = p.table[input[i] ^ flip];
}

}  // namespace qseg::kernels::ref

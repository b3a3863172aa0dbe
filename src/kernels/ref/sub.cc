// SUB reference kernels (uint8, int8, float32), elementwise with optional broadcasting.
#include "kernels/sub.h"

#include <algorithm>

namespace qseg::kernels::ref {

namespace {

template <typename T>
void sub_quantized(const SubParams& p, const T* input1, const T* input2, T* output, int64_t begin,
                   int64_t end) {
  if (p.xnnpack) {
    const quant::XnnpackAdd& x = *p.xnnpack;
    for_each_broadcast_element(p, begin, end, [&](int64_t o, int64_t i1, int64_t i2) {
      output[o] = static_cast<T>(quant::add_xnnpack(input1[i1], input2[i2], x, p.activation_range));
    });
    return;
  }
  for_each_broadcast_element(p, begin, end, [&](int64_t o, int64_t i1, int64_t i2) {
    output[o] = static_cast<T>(
        quant::sub_quantized(input1[i1], input2[i2], p.quantization, p.activation_range));
  });
}

}  // namespace

void sub_uint8(const SubParams& params, const uint8_t* input1, const uint8_t* input2,
               uint8_t* output, int64_t begin, int64_t end) {
  sub_quantized(params, input1, input2, output, begin, end);
}

void sub_int8(const SubParams& params, const int8_t* input1, const int8_t* input2, int8_t* output,
              int64_t begin, int64_t end) {
  sub_quantized(params, input1, input2, output, begin, end);
}

void sub_float(const SubParams& p, const float* input1, const float* input2, float* output,
               int64_t begin, int64_t end) {
  const quant::FloatRange range = p.float_activation_range;
  for_each_broadcast_element(p, begin, end, [&](int64_t o, int64_t i1, int64_t i2) {
    output[o] = std::min(std::max(input1[i1] - input2[i2], range.min), range.max);
  });
}

}  // namespace qseg::kernels::ref

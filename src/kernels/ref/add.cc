// ADD reference kernels (uint8, int8, float32), elementwise with optional broadcasting.
#include "kernels/add.h"

#include <algorithm>
#include <array>

namespace qseg::kernels::ref {

namespace {

// Calls f(output_index, input1_index, input2_index) for output elements [begin, end).
template <typename F>
void for_each_element(const AddParams& p, int64_t begin, int64_t end, F f) {
  if (!p.broadcast) {
    for (int64_t i = begin; i < end; ++i) f(i, i, i);
    return;
  }
  // An odometer over the output dims, started at `begin`, carrying both input offsets.
  std::array<int64_t, AddParams::kMaxRank> index{};
  int64_t rest = begin, offset1 = 0, offset2 = 0;
  for (int32_t d = p.rank - 1; d >= 0; --d) {
    index[d] = rest % p.output_dims[d];
    rest /= p.output_dims[d];
    offset1 += index[d] * p.input1_strides[d];
    offset2 += index[d] * p.input2_strides[d];
  }
  for (int64_t i = begin; i < end; ++i) {
    f(i, offset1, offset2);
    for (int32_t d = p.rank - 1; d >= 0; --d) {
      offset1 += p.input1_strides[d];
      offset2 += p.input2_strides[d];
      if (++index[d] < p.output_dims[d]) break;
      offset1 -= p.input1_strides[d] * p.output_dims[d];
      offset2 -= p.input2_strides[d] * p.output_dims[d];
      index[d] = 0;
    }
  }
}

template <typename T>
void add_quantized(const AddParams& p, const T* input1, const T* input2, T* output, int64_t begin,
                   int64_t end) {
  if (p.xnnpack) {
    const quant::XnnpackAdd& x = *p.xnnpack;
    for_each_element(p, begin, end, [&](int64_t o, int64_t i1, int64_t i2) {
      output[o] = static_cast<T>(quant::add_xnnpack(input1[i1], input2[i2], x, p.activation_range));
    });
    return;
  }
  for_each_element(p, begin, end, [&](int64_t o, int64_t i1, int64_t i2) {
    output[o] = static_cast<T>(
        quant::add_quantized(input1[i1], input2[i2], p.quantization, p.activation_range));
  });
}

}  // namespace

void add_uint8(const AddParams& params, const uint8_t* input1, const uint8_t* input2,
               uint8_t* output, int64_t begin, int64_t end) {
  add_quantized(params, input1, input2, output, begin, end);
}

void add_int8(const AddParams& params, const int8_t* input1, const int8_t* input2, int8_t* output,
              int64_t begin, int64_t end) {
  add_quantized(params, input1, input2, output, begin, end);
}

void add_float(const AddParams& p, const float* input1, const float* input2, float* output,
               int64_t begin, int64_t end) {
  const quant::FloatRange range = p.float_activation_range;
  for_each_element(p, begin, end, [&](int64_t o, int64_t i1, int64_t i2) {
    output[o] = std::min(std::max(input1[i1] + input2[i2], range.min), range.max);
  });
}

}  // namespace qseg::kernels::ref

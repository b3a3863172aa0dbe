// CONCATENATION reference kernels: row copies, and TFLite's float rescaling for 8-bit inputs
// whose quantization differs from the output's.
#include "kernels/concatenation.h"

#include <cstring>

#include "qseg/graph.h"

namespace qseg::kernels::ref {

namespace {

template <typename T>
void concatenation_quantized(const ConcatenationParams& p, int index, const T* input, T* output,
                             int64_t outer_begin, int64_t outer_end) {
  const ConcatenationInput& in = p.inputs[index];
  if (!in.rescale) {
    concatenation_copy(p, index, input, output, outer_begin, outer_end);
    return;
  }
  for (int64_t o = outer_begin; o < outer_end; ++o) {
    const T* src = input + o * in.row_size;
    T* dst = output + o * p.output_row_size + in.output_offset;
    for (int64_t i = 0; i < in.row_size; ++i) {
      dst[i] = static_cast<T>(
          quant::apply_float_rescale(src[i], in.rescale_params, p.range.min, p.range.max));
    }
  }
}

}  // namespace

void concatenation_uint8(const ConcatenationParams& params, int index, const uint8_t* input,
                         uint8_t* output, int64_t outer_begin, int64_t outer_end) {
  concatenation_quantized(params, index, input, output, outer_begin, outer_end);
}

void concatenation_int8(const ConcatenationParams& params, int index, const int8_t* input,
                        int8_t* output, int64_t outer_begin, int64_t outer_end) {
  concatenation_quantized(params, index, input, output, outer_begin, outer_end);
}

void concatenation_copy(const ConcatenationParams& params, int index, const void* input,
                        void* output, int64_t outer_begin, int64_t outer_end) {
  const ConcatenationInput& in = params.inputs[index];
  const auto element = static_cast<int64_t>(data_type_size(params.type));
  if (in.row_size == 0) return;  // an empty input may have no buffer at all
  const auto* src = static_cast<const uint8_t*>(input);
  auto* dst = static_cast<uint8_t*>(output);
  for (int64_t o = outer_begin; o < outer_end; ++o) {
    std::memcpy(dst + (o * params.output_row_size + in.output_offset) * element,
                src + o * in.row_size * element, static_cast<size_t>(in.row_size * element));
  }
}

}  // namespace qseg::kernels::ref

// ARG_MAX reference kernel: first index of the maximum along the axis.
#include "kernels/arg_max.h"

namespace qseg::kernels::ref {

namespace {

template <typename In, typename Out>
void arg_max_typed(const ArgMaxParams& p, const In* input, Out* output, int64_t outer_begin,
                   int64_t outer_end) {
  for (int64_t o = outer_begin; o < outer_end; ++o) {
    const In* block = input + o * p.axis_size * p.inner;
    for (int64_t i = 0; i < p.inner; ++i) {
      In best = block[i];
      int64_t best_index = 0;
      for (int64_t a = 1; a < p.axis_size; ++a) {
        const In value = block[a * p.inner + i];
        if (value > best) {  // strict: ties keep the first index
          best = value;
          best_index = a;
        }
      }
      output[o * p.inner + i] = static_cast<Out>(best_index);
    }
  }
}

template <typename In>
void arg_max_to(const ArgMaxParams& p, const In* input, void* output, int64_t outer_begin,
                int64_t outer_end) {
  if (p.output_type == DataType::kInt32) {
    arg_max_typed(p, input, static_cast<int32_t*>(output), outer_begin, outer_end);
  } else {
    arg_max_typed(p, input, static_cast<int64_t*>(output), outer_begin, outer_end);
  }
}

}  // namespace

void arg_max(const ArgMaxParams& params, const void* input, void* output, int64_t outer_begin,
             int64_t outer_end) {
  switch (params.input_type) {
    case DataType::kUInt8:
      return arg_max_to(params, static_cast<const uint8_t*>(input), output, outer_begin, outer_end);
    case DataType::kInt8:
      return arg_max_to(params, static_cast<const int8_t*>(input), output, outer_begin, outer_end);
    case DataType::kFloat32:
      return arg_max_to(params, static_cast<const float*>(input), output, outer_begin, outer_end);
    default:
      return;  // rejected by prepare_arg_max
  }
}

}  // namespace qseg::kernels::ref

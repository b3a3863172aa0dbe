// QUANTIZE and DEQUANTIZE reference kernels.
#include "kernels/quantize.h"

namespace qseg::kernels::ref {

namespace {

template <typename Out>
void quantize_from_float(const QuantizeParams& p, const float* input, Out* output, int64_t begin,
                         int64_t end) {
  for (int64_t i = begin; i < end; ++i) {
    output[i] = static_cast<Out>(quant::quantize_value(
        input[i], p.output_scale, p.output_zero_point, p.range.min, p.range.max));
  }
}

template <typename In, typename Out>
void requantize(const QuantizeParams& p, const In* input, Out* output, int64_t begin, int64_t end) {
  if (p.use_float_convert) {
    for (int64_t i = begin; i < end; ++i) {
      output[i] = static_cast<Out>(quant::float_convert(input[i], p.convert, p.range));
    }
    return;
  }
  for (int64_t i = begin; i < end; ++i) {
    output[i] = static_cast<Out>(quant::requantize(input[i], p.input_zero_point, p.multiplier,
                                                   p.output_zero_point, p.range));
  }
}

template <typename Out>
void quantize_to(const QuantizeParams& p, const void* input, Out* output, int64_t begin,
                 int64_t end) {
  switch (p.input_type) {
    case DataType::kFloat32:
      return quantize_from_float(p, static_cast<const float*>(input), output, begin, end);
    case DataType::kUInt8:
      return requantize(p, static_cast<const uint8_t*>(input), output, begin, end);
    case DataType::kInt8:
      return requantize(p, static_cast<const int8_t*>(input), output, begin, end);
    default:
      return;  // rejected by prepare_quantize
  }
}

}  // namespace

void quantize(const QuantizeParams& params, const void* input, void* output, int64_t begin,
              int64_t end) {
  if (params.output_type == DataType::kUInt8) {
    quantize_to(params, input, static_cast<uint8_t*>(output), begin, end);
  } else {
    quantize_to(params, input, static_cast<int8_t*>(output), begin, end);
  }
}

void dequantize(const DequantizeParams& params, const void* input, float* output, int64_t begin,
                int64_t end) {
  if (params.input_type == DataType::kUInt8) {
    const auto* q = static_cast<const uint8_t*>(input);
    for (int64_t i = begin; i < end; ++i) {
      output[i] = quant::dequantize_value(q[i], params.scale, params.zero_point);
    }
  } else {
    const auto* q = static_cast<const int8_t*>(input);
    for (int64_t i = begin; i < end; ++i) {
      output[i] = quant::dequantize_value(q[i], params.scale, params.zero_point);
    }
  }
}

}  // namespace qseg::kernels::ref

// MUL prepare: checks types, shapes (with broadcasting) and quantization, computes multipliers.
#include "kernels/mul.h"

#include "kernels/op_checks.h"

namespace qseg::kernels {

Result<MulParams> prepare_mul(const Graph& graph, const Op& op, Requantization requantization) {
  QSEG_ASSIGN_OR_RETURN(const MulOptions options, options_of<MulOptions>(op, "MulOptions"));
  MulParams params;
  QSEG_ASSIGN_OR_RETURN(const BinaryOperands o, binary_operands(graph, op, params));
  params.type = o.type;
  params.size = o.output->num_elements();
  if (params.type == DataType::kFloat32) {
    params.float_activation_range = quant::activation_range_float(options.activation);
    return params;
  }
  params.quantization = quant::mul_quantization(o.scale1, o.zero_point1, o.scale2, o.zero_point2,
                                                o.output_scale, o.output_zero_point);
  if (requantization == Requantization::kXnnpack) {
    params.xnnpack = quant::xnnpack_mul_params(o.scale1, o.zero_point1, o.scale2, o.zero_point2,
                                               o.output_scale, o.output_zero_point);
  }
  const quant::QuantizedRange range = type_range(params.type);
  params.activation_range = quant::activation_range(options.activation, o.output_scale,
                                                    o.output_zero_point, range.min, range.max);
  return params;
}

}  // namespace qseg::kernels

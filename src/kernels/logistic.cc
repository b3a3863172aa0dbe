// LOGISTIC prepare: types, shapes, quantization, and the 8-bit table.
#include "kernels/logistic.h"

#include <string>

namespace qseg::kernels {

Result<ActivationTableParams> prepare_logistic(const Graph& graph, const Op& op,
                                               Requantization requantization) {
  QSEG_ASSIGN_OR_RETURN(const UnaryOperands u, unary_operands(graph, op));
  ActivationTableParams params;
  params.type = u.input->type;
  params.size = u.input->num_elements();
  params.requantization = requantization;
  if (params.type == DataType::kFloat32) return params;
  const int32_t qmin = type_range(params.type).min;
  if (u.out.scale != 1.0f / 256.0f || u.out.zero_point != qmin) {
    return Status::error("output must have scale 1/256 and zero point " + std::to_string(qmin) +
                         ", got scale " + std::to_string(u.out.scale) + " and zero point " +
                         std::to_string(u.out.zero_point));
  }
  params.table =
      requantization == Requantization::kXnnpack
          ? quant::xnnpack_logistic_table(u.in.scale, u.in.zero_point, u.out.scale,
                                          u.out.zero_point, qmin)
          : quant::logistic_table(u.in.scale, u.in.zero_point, u.out.scale, u.out.zero_point, qmin);
  return params;
}

}  // namespace qseg::kernels

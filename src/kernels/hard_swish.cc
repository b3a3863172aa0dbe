// HARD_SWISH prepare: types, shapes, quantization, and the 8-bit table.
#include "kernels/hard_swish.h"

#include <string>

namespace qseg::kernels {

Result<ActivationTableParams> prepare_hard_swish(const Graph& graph, const Op& op,
                                                 Requantization requantization) {
  QSEG_ASSIGN_OR_RETURN(const UnaryOperands u, unary_operands(graph, op));
  ActivationTableParams params;
  params.type = u.input->type;
  params.size = u.input->num_elements();
  params.requantization = requantization;
  if (params.type == DataType::kFloat32) return params;
  // TFLite's prepare refuses an output multiplier (input_scale / 128 / output_scale) >= 1.
  if (!(u.in.scale / 128.0f / u.out.scale < 1.0f)) {
    return Status::error("input scale " + std::to_string(u.in.scale) + " over output scale " +
                         std::to_string(u.out.scale) + " must be below 128");
  }
  params.table = quant::hard_swish_table(u.in.scale, u.in.zero_point, u.out.scale, u.out.zero_point,
                                         type_range(params.type).min);
  return params;
}

}  // namespace qseg::kernels

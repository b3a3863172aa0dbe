// The operands of HARD_SWISH and LOGISTIC.
#include "kernels/activation_table.h"

namespace qseg::kernels {

Result<UnaryOperands> unary_operands(const Graph& graph, const Op& op) {
  QSEG_RETURN_IF_ERROR(check_io_count(op, 1, 1, 1));
  UnaryOperands u;
  QSEG_ASSIGN_OR_RETURN(u.input, input_tensor(graph, op, 0));
  QSEG_ASSIGN_OR_RETURN(u.output, output_tensor(graph, op, 0));
  QSEG_RETURN_IF_ERROR(
      check_type(*u.input, "input", {DataType::kUInt8, DataType::kInt8, DataType::kFloat32}));
  QSEG_RETURN_IF_ERROR(check_same_type(*u.output, "output", *u.input, "input"));
  QSEG_RETURN_IF_ERROR(check_output_shape(*u.output, u.input->shape));
  if (u.input->type == DataType::kFloat32) return u;
  QSEG_ASSIGN_OR_RETURN(u.in, per_tensor_quantization(*u.input, "input"));
  QSEG_ASSIGN_OR_RETURN(u.out, per_tensor_quantization(*u.output, "output"));
  return u;
}

}  // namespace qseg::kernels

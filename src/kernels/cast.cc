// CAST prepare: the two types and the element count.
#include "kernels/cast.h"

#include "kernels/op_checks.h"
#include "kernels/shape.h"

namespace qseg::kernels {

Result<CastParams> prepare_cast(const Graph& graph, const Op& op) {
  QSEG_RETURN_IF_ERROR(check_io_count(op, 1, 1, 1));
  QSEG_ASSIGN_OR_RETURN(const Tensor* input, input_tensor(graph, op, 0));
  QSEG_ASSIGN_OR_RETURN(const Tensor* output, output_tensor(graph, op, 0));
  for (const auto& [tensor, role] : {std::pair{input, "input"}, std::pair{output, "output"}}) {
    QSEG_RETURN_IF_ERROR(
        check_type(*tensor, role,
                   {DataType::kFloat32, DataType::kInt32, DataType::kInt64, DataType::kInt16,
                    DataType::kUInt8, DataType::kInt8, DataType::kBool}));
  }
  if (output->shape != input->shape) {
    return Status::error("output shape " + shape_string(output->shape) +
                         " must be the input's shape " + shape_string(input->shape));
  }
  return CastParams{input->type, output->type, input->num_elements()};
}

}  // namespace qseg::kernels

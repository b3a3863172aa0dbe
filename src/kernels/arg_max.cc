// ARG_MAX prepare: reads the constant axis, checks types and the output shape.
#include "kernels/arg_max.h"

#include <string>
#include <variant>
#include <vector>

#include "kernels/op_checks.h"
#include "kernels/shape.h"

namespace qseg::kernels {

Result<ArgMaxParams> prepare_arg_max(const Graph& graph, const Op& op) {
  QSEG_RETURN_IF_ERROR(check_io_count(op, 2, 2, 1));
  QSEG_ASSIGN_OR_RETURN(const Tensor* input, input_tensor(graph, op, 0));
  QSEG_ASSIGN_OR_RETURN(const Tensor* axis_tensor, input_tensor(graph, op, 1));
  QSEG_ASSIGN_OR_RETURN(const Tensor* output, output_tensor(graph, op, 0));
  QSEG_RETURN_IF_ERROR(
      check_type(*input, "input", {DataType::kUInt8, DataType::kInt8, DataType::kFloat32}));
  QSEG_RETURN_IF_ERROR(check_type(*output, "output", {DataType::kInt32, DataType::kInt64}));
  if (const auto* options = std::get_if<ArgMaxOptions>(&op.options)) {
    if (options->output_type != output->type) {
      return Status::error("options say output_type " +
                           std::string(data_type_name(options->output_type)) +
                           " but the output is " + std::string(data_type_name(output->type)));
    }
  }
  QSEG_ASSIGN_OR_RETURN(const std::vector<int64_t> axis_values,
                        constant_integers(*axis_tensor, "axis"));
  if (axis_values.size() != 1) {
    return Status::error("axis must hold one value, got " + std::to_string(axis_values.size()));
  }
  const auto rank = static_cast<int64_t>(input->shape.size());
  const int64_t axis = axis_values[0] < 0 ? axis_values[0] + rank : axis_values[0];
  if (axis < 0 || axis >= rank) {
    return Status::error("axis " + std::to_string(axis_values[0]) + " is out of range for rank " +
                         std::to_string(rank));
  }

  ArgMaxParams params;
  params.input_type = input->type;
  params.output_type = output->type;
  params.axis = static_cast<int32_t>(axis);
  params.axis_size = input->shape[axis];
  if (params.axis_size < 1) return Status::error("the axis dim must be positive, it is 0");
  params.outer = 1;
  params.inner = 1;
  std::vector<int32_t> expected;
  for (int64_t d = 0; d < rank; ++d) {
    if (d < axis) params.outer *= input->shape[d];
    if (d > axis) params.inner *= input->shape[d];
    if (d != axis) expected.push_back(input->shape[d]);
  }
  QSEG_RETURN_IF_ERROR(check_output_shape(*output, expected));
  return params;
}

}  // namespace qseg::kernels

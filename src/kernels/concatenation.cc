// CONCATENATION prepare: checks shapes, types and options, decides which inputs are rescaled.
#include "kernels/concatenation.h"

#include <algorithm>
#include <string>

#include "kernels/op_checks.h"
#include "kernels/shape.h"

namespace qseg::kernels {

Result<ConcatenationParams> prepare_concatenation(const Graph& graph, const Op& op) {
  const int count = static_cast<int>(op.inputs.size());
  if (count < 1) return Status::error("expected at least 1 input, got 0");
  QSEG_RETURN_IF_ERROR(check_io_count(op, count, count, 1));
  QSEG_ASSIGN_OR_RETURN(const ConcatenationOptions options,
                        options_of<ConcatenationOptions>(op, "ConcatenationOptions"));
  if (options.activation != Activation::kNone) {
    return Status::error("fused activations are not supported, the activation must be NONE");
  }
  QSEG_ASSIGN_OR_RETURN(const Tensor* output, output_tensor(graph, op, 0));
  QSEG_RETURN_IF_ERROR(check_type(
      *output, "output",
      {DataType::kFloat32, DataType::kUInt8, DataType::kInt8, DataType::kInt32, DataType::kInt64}));
  const auto rank = static_cast<int32_t>(output->shape.size());
  const int32_t axis = options.axis < 0 ? options.axis + rank : options.axis;
  if (axis < 0 || axis >= rank) {
    return Status::error("axis " + std::to_string(options.axis) + " is out of range for rank " +
                         std::to_string(rank));
  }

  ConcatenationParams params;
  params.type = output->type;
  params.axis = axis;
  params.range = type_range(output->type);
  const bool quantized = is_quantized_8bit(output->type);
  TensorQuantization out_q;
  if (quantized) {
    QSEG_ASSIGN_OR_RETURN(out_q, per_tensor_quantization(*output, "output"));
  }

  std::vector<int32_t> expected;
  int64_t offset = 0;
  for (int i = 0; i < count; ++i) {
    const std::string role = "input " + std::to_string(i);
    QSEG_ASSIGN_OR_RETURN(const Tensor* input, input_tensor(graph, op, i));
    QSEG_RETURN_IF_ERROR(check_same_type(*input, role, *output, "output"));
    if (input->shape.size() != output->shape.size()) {
      return Status::error(role + " has rank " + std::to_string(input->shape.size()) +
                           ", the output has rank " + std::to_string(rank));
    }
    if (i == 0) {
      expected = input->shape;
      expected[axis] = 0;
    }
    for (int32_t d = 0; d < rank; ++d) {
      if (d != axis && input->shape[d] != expected[d]) {
        return Status::error(role + " shape " + shape_string(input->shape) +
                             " differs from input 0 shape outside axis " + std::to_string(axis));
      }
    }
    expected[axis] += input->shape[axis];

    ConcatenationInput entry;
    entry.row_size = 1;
    for (int32_t d = axis; d < rank; ++d) entry.row_size *= input->shape[d];
    entry.output_offset = offset;
    offset += entry.row_size;
    if (quantized) {
      QSEG_ASSIGN_OR_RETURN(const TensorQuantization in_q, per_tensor_quantization(*input, role));
      entry.rescale = in_q.scale != out_q.scale || in_q.zero_point != out_q.zero_point;
      entry.rescale_params =
          quant::float_rescale(in_q.scale, in_q.zero_point, out_q.scale, out_q.zero_point);
    }
    params.inputs.push_back(entry);
  }
  QSEG_RETURN_IF_ERROR(check_output_shape(*output, expected));
  params.outer = 1;
  for (int32_t d = 0; d < axis; ++d) params.outer *= output->shape[d];
  params.output_row_size = offset;
  return params;
}

}  // namespace qseg::kernels

// PAD and PADV2 prepare: the paddings, the pad value and the row layout of the copy.
#include "kernels/pad.h"

#include <cstring>
#include <limits>
#include <string>

#include "kernels/element_copy.h"
#include "kernels/op_checks.h"
#include "kernels/shape.h"

namespace qseg::kernels {

namespace {

// The bytes of one pad element: PADV2's constant value, else 0 or the output's zero point.
Result<std::vector<uint8_t>> pad_value(const Graph& graph, const Op& op, const Tensor& input,
                                       const Tensor& output) {
  const size_t bytes = data_type_size(input.type);
  if (op.type == OpType::kPadV2) {
    QSEG_ASSIGN_OR_RETURN(const Tensor* value, optional_input_tensor(graph, op, 2));
    if (value != nullptr) {
      QSEG_RETURN_IF_ERROR(check_same_type(*value, "constant_values", input, "input"));
      if (!value->is_constant) return Status::error("constant_values must be a constant tensor");
      if (value->num_elements() != 1) {
        return Status::error("constant_values must hold one value, got shape " +
                             shape_string(value->shape));
      }
      return value->data;
    }
  }
  std::vector<uint8_t> element(bytes, 0);
  if (is_quantized_8bit(output.type)) {
    QSEG_ASSIGN_OR_RETURN(const TensorQuantization q, per_tensor_quantization(output, "output"));
    element[0] = static_cast<uint8_t>(q.zero_point);  // int8 stored as its two's complement byte
  }
  return element;
}

}  // namespace

Result<PadParams> prepare_pad(const Graph& graph, const Op& op) {
  QSEG_RETURN_IF_ERROR(check_io_count(op, 2, op.type == OpType::kPadV2 ? 3 : 2, 1));
  QSEG_ASSIGN_OR_RETURN(const Tensor* input, input_tensor(graph, op, 0));
  QSEG_ASSIGN_OR_RETURN(const Tensor* paddings_tensor, input_tensor(graph, op, 1));
  QSEG_ASSIGN_OR_RETURN(const Tensor* output, output_tensor(graph, op, 0));
  QSEG_RETURN_IF_ERROR(check_type(
      *input, "input",
      {DataType::kFloat32, DataType::kInt32, DataType::kInt64, DataType::kUInt8, DataType::kInt8}));
  QSEG_RETURN_IF_ERROR(check_same_type(*output, "output", *input, "input"));
  const auto rank = static_cast<int64_t>(input->shape.size());
  QSEG_ASSIGN_OR_RETURN(const auto paddings, constant_pairs(*paddings_tensor, "paddings", rank));
  std::vector<int32_t> expected;
  for (int64_t d = 0; d < rank; ++d) {
    const int64_t size = paddings[d].first + input->shape[d] + paddings[d].second;
    if (size > std::numeric_limits<int32_t>::max())
      return Status::error("padded dim " + std::to_string(d) + " does not fit in int32");
    expected.push_back(static_cast<int32_t>(size));
  }
  QSEG_RETURN_IF_ERROR(check_output_shape(*output, expected));
  QSEG_ASSIGN_OR_RETURN(const std::vector<uint8_t> element, pad_value(graph, op, *input, *output));

  PadParams p;
  p.element_bytes = static_cast<int64_t>(data_type_size(input->type));
  p.input_shape = rank == 0 ? std::vector<int32_t>{1} : input->shape;
  p.output_shape = rank == 0 ? std::vector<int32_t>{1} : expected;
  for (int64_t d = 0; d < rank; ++d) p.before.push_back(static_cast<int32_t>(paddings[d].first));
  if (rank == 0) p.before = {0};
  p.input_strides = element_strides(p.input_shape);
  p.rows = 1;
  for (size_t d = 0; d + 1 < p.output_shape.size(); ++d) p.rows *= p.output_shape[d];
  p.pad_row.resize(static_cast<size_t>(p.output_shape.back() * p.element_bytes));
  fill_elements(p.pad_row.data(), element.data(), p.element_bytes, p.output_shape.back());
  return p;
}

}  // namespace qseg::kernels

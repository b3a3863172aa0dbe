// ADD prepare: checks types, shapes (with broadcasting) and quantization, computes multipliers.
#include "kernels/add.h"

#include <algorithm>
#include <string>
#include <variant>
#include <vector>

#include "kernels/op_checks.h"
#include "kernels/shape.h"

namespace qseg::kernels {

namespace {

// Fills the broadcast fields of params from the input shapes; returns the output shape.
Result<std::vector<int32_t>> broadcast_shapes(const Tensor& input1, const Tensor& input2,
                                              AddParams& params) {
  const std::vector<int32_t>& a = input1.shape;
  const std::vector<int32_t>& b = input2.shape;
  if (a == b) {
    params.broadcast = false;
    return a;
  }
  const size_t rank = std::max(a.size(), b.size());
  if (rank > AddParams::kMaxRank) {
    return Status::error("broadcasting supports rank up to " + std::to_string(AddParams::kMaxRank) +
                         ", got shapes " + shape_string(a) + " and " + shape_string(b));
  }
  // Dims aligned from the right; missing leading dims are 1.
  auto dim = [rank](const std::vector<int32_t>& s, size_t d) {
    const size_t missing = rank - s.size();
    return d < missing ? 1 : s[d - missing];
  };
  std::vector<int32_t> shape(rank);
  for (size_t d = 0; d < rank; ++d) {
    const int32_t da = dim(a, d), db = dim(b, d);
    if (da != db && da != 1 && db != 1) {
      return Status::error("input shapes " + shape_string(a) + " and " + shape_string(b) +
                           " do not broadcast");
    }
    shape[d] = da == 1 ? db : da;
  }
  params.broadcast = true;
  params.rank = static_cast<int32_t>(rank);
  int64_t stride_a = 1, stride_b = 1;
  for (size_t i = rank; i-- > 0;) {
    params.output_dims[i] = shape[i];
    params.input1_strides[i] = dim(a, i) == 1 ? 0 : stride_a;
    params.input2_strides[i] = dim(b, i) == 1 ? 0 : stride_b;
    stride_a *= dim(a, i);
    stride_b *= dim(b, i);
  }
  return shape;
}

}  // namespace

Result<AddParams> prepare_add(const Graph& graph, const Op& op, Requantization requantization) {
  QSEG_RETURN_IF_ERROR(check_io_count(op, 2, 2, 1));
  AddOptions options;
  if (!std::holds_alternative<std::monostate>(op.options)) {
    QSEG_ASSIGN_OR_RETURN(options, options_of<AddOptions>(op, "AddOptions"));
  }
  QSEG_ASSIGN_OR_RETURN(const Tensor* input1, input_tensor(graph, op, 0));
  QSEG_ASSIGN_OR_RETURN(const Tensor* input2, input_tensor(graph, op, 1));
  QSEG_ASSIGN_OR_RETURN(const Tensor* output, output_tensor(graph, op, 0));
  QSEG_RETURN_IF_ERROR(
      check_type(*input1, "input 0", {DataType::kUInt8, DataType::kInt8, DataType::kFloat32}));
  QSEG_RETURN_IF_ERROR(check_same_type(*input2, "input 1", *input1, "input 0"));
  QSEG_RETURN_IF_ERROR(check_same_type(*output, "output", *input1, "input 0"));

  AddParams params;
  params.type = input1->type;
  QSEG_ASSIGN_OR_RETURN(const std::vector<int32_t> shape,
                        broadcast_shapes(*input1, *input2, params));
  QSEG_RETURN_IF_ERROR(check_output_shape(*output, shape));
  params.size = output->num_elements();

  if (params.type == DataType::kFloat32) {
    params.float_activation_range = quant::activation_range_float(options.activation);
    return params;
  }
  QSEG_ASSIGN_OR_RETURN(const TensorQuantization q1, per_tensor_quantization(*input1, "input 0"));
  QSEG_ASSIGN_OR_RETURN(const TensorQuantization q2, per_tensor_quantization(*input2, "input 1"));
  QSEG_ASSIGN_OR_RETURN(const TensorQuantization out, per_tensor_quantization(*output, "output"));
  params.quantization = quant::add_quantization(q1.scale, q1.zero_point, q2.scale, q2.zero_point,
                                                out.scale, out.zero_point);
  if (requantization == Requantization::kXnnpack) {
    params.xnnpack = quant::xnnpack_add_params(q1.scale, q1.zero_point, q2.scale, q2.zero_point,
                                               out.scale, out.zero_point);
  }
  const quant::QuantizedRange range = type_range(params.type);
  params.activation_range =
      quant::activation_range(options.activation, out.scale, out.zero_point, range.min, range.max);
  return params;
}

}  // namespace qseg::kernels

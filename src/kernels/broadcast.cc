// Broadcasting of two input shapes into the output shape and per-input strides.
#include "kernels/broadcast.h"

#include <algorithm>
#include <string>

#include "kernels/op_checks.h"
#include "kernels/shape.h"

namespace qseg::kernels {

Result<std::vector<int32_t>> broadcast_shapes(const Tensor& input1, const Tensor& input2,
                                              BroadcastShape& params) {
  const std::vector<int32_t>& a = input1.shape;
  const std::vector<int32_t>& b = input2.shape;
  if (a == b) {
    params.broadcast = false;
    return a;
  }
  const size_t rank = std::max(a.size(), b.size());
  if (rank > BroadcastShape::kMaxRank) {
    return Status::error("broadcasting supports rank up to " +
                         std::to_string(BroadcastShape::kMaxRank) + ", got shapes " +
                         shape_string(a) + " and " + shape_string(b));
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

Result<BinaryOperands> binary_operands(const Graph& graph, const Op& op, BroadcastShape& shape) {
  QSEG_RETURN_IF_ERROR(check_io_count(op, 2, 2, 1));
  BinaryOperands o;
  QSEG_ASSIGN_OR_RETURN(o.input1, input_tensor(graph, op, 0));
  QSEG_ASSIGN_OR_RETURN(o.input2, input_tensor(graph, op, 1));
  QSEG_ASSIGN_OR_RETURN(o.output, output_tensor(graph, op, 0));
  QSEG_RETURN_IF_ERROR(
      check_type(*o.input1, "input 0", {DataType::kUInt8, DataType::kInt8, DataType::kFloat32}));
  QSEG_RETURN_IF_ERROR(check_same_type(*o.input2, "input 1", *o.input1, "input 0"));
  QSEG_RETURN_IF_ERROR(check_same_type(*o.output, "output", *o.input1, "input 0"));
  o.type = o.input1->type;
  QSEG_ASSIGN_OR_RETURN(const std::vector<int32_t> output_shape,
                        broadcast_shapes(*o.input1, *o.input2, shape));
  QSEG_RETURN_IF_ERROR(check_output_shape(*o.output, output_shape));
  if (o.type == DataType::kFloat32) return o;
  QSEG_ASSIGN_OR_RETURN(const TensorQuantization q1, per_tensor_quantization(*o.input1, "input 0"));
  QSEG_ASSIGN_OR_RETURN(const TensorQuantization q2, per_tensor_quantization(*o.input2, "input 1"));
  QSEG_ASSIGN_OR_RETURN(const TensorQuantization out, per_tensor_quantization(*o.output, "output"));
  o.scale1 = q1.scale;
  o.zero_point1 = q1.zero_point;
  o.scale2 = q2.scale;
  o.zero_point2 = q2.zero_point;
  o.output_scale = out.scale;
  o.output_zero_point = out.zero_point;
  return o;
}

}  // namespace qseg::kernels

// MEAN prepare: checks the axes, types and shapes, splits the dims into kept and reduced ones,
// and chooses the 8-bit arithmetic.
#include "kernels/mean.h"

#include <algorithm>
#include <string>
#include <vector>

#include "kernels/op_checks.h"
#include "kernels/shape.h"

namespace qseg::kernels {

namespace {

// The reduced axes in [0, rank), sorted, each once.
Result<std::vector<bool>> reduced_axes(const Tensor& axes, int32_t rank) {
  QSEG_RETURN_IF_ERROR(check_type(axes, "axes", {DataType::kInt32}));
  if (!axes.is_constant) return Status::error("axes must be a constant tensor");
  if (axes.shape.size() > 1)
    return Status::error("axes must be a scalar or 1-D, got shape " + shape_string(axes.shape));
  QSEG_ASSIGN_OR_RETURN(const std::vector<int64_t> values, constant_integers(axes, "axes"));
  std::vector<bool> reduced(rank, false);
  for (const int64_t axis : values) {
    if (axis < -rank || axis >= rank) {
      return Status::error("axis " + std::to_string(axis) + " is out of range for rank " +
                           std::to_string(rank));
    }
    reduced[axis < 0 ? axis + rank : axis] = true;
  }
  return reduced;
}

// Whether XNNPACK's delegate takes this MEAN: a 4-D input reduced over W (axes exactly {2}), or
// over H and W (exactly {1, 2} in either order); it reads the axes as written.
bool xnnpack_takes(int32_t rank, const std::vector<int64_t>& axes) {
  if (rank != 4) return false;
  if (axes.size() == 1) return axes[0] == 2;
  return axes.size() == 2 && std::min(axes[0], axes[1]) == 1 && std::max(axes[0], axes[1]) == 2;
}

}  // namespace

Result<MeanParams> prepare_mean(const Graph& graph, const Op& op, Requantization requantization) {
  QSEG_RETURN_IF_ERROR(check_io_count(op, 2, 2, 1));
  QSEG_ASSIGN_OR_RETURN(const MeanOptions options, options_of<MeanOptions>(op, "ReducerOptions"));
  QSEG_ASSIGN_OR_RETURN(const Tensor* input, input_tensor(graph, op, 0));
  QSEG_ASSIGN_OR_RETURN(const Tensor* axes, input_tensor(graph, op, 1));
  QSEG_ASSIGN_OR_RETURN(const Tensor* output, output_tensor(graph, op, 0));
  QSEG_RETURN_IF_ERROR(
      check_type(*input, "input", {DataType::kUInt8, DataType::kInt8, DataType::kFloat32}));
  QSEG_RETURN_IF_ERROR(check_same_type(*output, "output", *input, "input"));
  const auto rank = static_cast<int32_t>(input->shape.size());
  if (rank > MeanParams::kMaxRank) {
    return Status::error("input rank " + std::to_string(rank) + " is above " +
                         std::to_string(MeanParams::kMaxRank));
  }
  QSEG_ASSIGN_OR_RETURN(const std::vector<bool> reduced, reduced_axes(*axes, rank));

  MeanParams params;
  params.type = input->type;
  std::vector<int32_t> shape;
  int64_t stride = 1;
  std::vector<int64_t> strides(rank);
  for (int32_t d = rank; d-- > 0;) {
    strides[d] = stride;
    stride *= input->shape[d];
  }
  for (int32_t d = 0; d < rank; ++d) {
    if (reduced[d]) {
      params.reduced_dims[params.reduced_rank] = input->shape[d];
      params.reduced_strides[params.reduced_rank++] = strides[d];
      params.count *= input->shape[d];
      if (options.keep_dims) shape.push_back(1);
    } else {
      params.kept_dims[params.kept_rank] = input->shape[d];
      params.kept_strides[params.kept_rank++] = strides[d];
      shape.push_back(input->shape[d]);
    }
  }
  QSEG_RETURN_IF_ERROR(check_output_shape(*output, shape));
  params.outputs = output->num_elements();
  if (params.count == 0 && params.outputs > 0)
    return Status::error("reduces over an empty dimension of input shape " +
                         shape_string(input->shape));
  QSEG_ASSIGN_OR_RETURN(const std::vector<int64_t> axis_values, constant_integers(*axes, "axes"));
  const bool xnnpack =
      requantization == Requantization::kXnnpack && xnnpack_takes(rank, axis_values);
  if (params.type == DataType::kFloat32) {
    params.xnnpack_float = xnnpack;
    return params;
  }

  QSEG_ASSIGN_OR_RETURN(const TensorQuantization in, per_tensor_quantization(*input, "input"));
  QSEG_ASSIGN_OR_RETURN(const TensorQuantization out, per_tensor_quantization(*output, "output"));
  params.range = type_range(params.type);
  if (xnnpack) {
    params.xnnpack = quant::xnnpack_mean_params(in.scale, in.zero_point, out.scale, out.zero_point,
                                                params.count);
  }
  // TFLite's built-in uint8 kernel has its own arithmetic over H and W, for axes written exactly
  // {1, 2} (either order) with keep_dims.
  const bool spatial =
      rank == 4 && options.keep_dims && axis_values.size() == 2 && xnnpack_takes(rank, axis_values);
  params.quantization = quant::mean_quantization(in.scale, in.zero_point, out.scale, out.zero_point,
                                                 params.count, params.type, spatial);
  return params;
}

}  // namespace qseg::kernels

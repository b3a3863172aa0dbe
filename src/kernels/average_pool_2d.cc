// AVERAGE_POOL_2D prepare: checks the tensors and computes the window and activation range.
#include "kernels/average_pool_2d.h"

#include <string>

#include "kernels/op_checks.h"

namespace qseg::kernels {

Result<AveragePool2dParams> prepare_average_pool_2d(const Graph& graph, const Op& op) {
  QSEG_RETURN_IF_ERROR(check_io_count(op, 1, 1, 1));
  QSEG_ASSIGN_OR_RETURN(const Pool2dOptions options,
                        options_of<Pool2dOptions>(op, "Pool2dOptions"));
  QSEG_ASSIGN_OR_RETURN(const Tensor* input, input_tensor(graph, op, 0));
  QSEG_ASSIGN_OR_RETURN(const Tensor* output, output_tensor(graph, op, 0));
  QSEG_RETURN_IF_ERROR(
      check_type(*input, "input", {DataType::kUInt8, DataType::kInt8, DataType::kFloat32}));
  QSEG_RETURN_IF_ERROR(check_same_type(*output, "output", *input, "input"));

  AveragePool2dParams params;
  params.type = input->type;
  QSEG_ASSIGN_OR_RETURN(params.input, nhwc_dims(*input, "input"));
  QSEG_ASSIGN_OR_RETURN(
      params.window,
      make_window(options.padding, params.input.height, params.input.width, options.filter_h,
                  options.filter_w, options.stride_h, options.stride_w, 1, 1));
  params.output = {params.input.batch, params.window.output_h, params.window.output_w,
                   params.input.channels};
  QSEG_RETURN_IF_ERROR(check_output_shape(*output, params.output.shape()));

  if (params.type == DataType::kFloat32) {
    params.float_activation_range = quant::activation_range_float(options.activation);
    return params;
  }
  QSEG_ASSIGN_OR_RETURN(const TensorQuantization in, per_tensor_quantization(*input, "input"));
  QSEG_ASSIGN_OR_RETURN(const TensorQuantization out, per_tensor_quantization(*output, "output"));
  if (in.scale != out.scale || in.zero_point != out.zero_point) {
    return Status::error("input and output must have the same scale and zero point, got (" +
                         std::to_string(in.scale) + ", " + std::to_string(in.zero_point) +
                         ") and (" + std::to_string(out.scale) + ", " +
                         std::to_string(out.zero_point) + ")");
  }
  const quant::QuantizedRange range = type_range(params.type);
  params.activation_range =
      quant::activation_range(options.activation, out.scale, out.zero_point, range.min, range.max);
  return params;
}

}  // namespace qseg::kernels

// CONV_2D prepare: checks the tensors against the op's semantics and computes its parameters.
#include "kernels/conv_2d.h"

#include <string>

#include "kernels/op_checks.h"

namespace qseg::kernels {

Result<Conv2dParams> prepare_conv_2d(const Graph& graph, const Op& op,
                                     Requantization requantization) {
  QSEG_RETURN_IF_ERROR(check_io_count(op, 2, 3, 1));
  QSEG_ASSIGN_OR_RETURN(const Conv2dOptions options,
                        options_of<Conv2dOptions>(op, "Conv2dOptions"));
  QSEG_ASSIGN_OR_RETURN(const Tensor* input, input_tensor(graph, op, 0));
  QSEG_ASSIGN_OR_RETURN(const Tensor* weights, input_tensor(graph, op, 1));
  QSEG_ASSIGN_OR_RETURN(const Tensor* bias, optional_input_tensor(graph, op, 2));
  QSEG_ASSIGN_OR_RETURN(const Tensor* output, output_tensor(graph, op, 0));

  QSEG_RETURN_IF_ERROR(
      check_type(*input, "input", {DataType::kUInt8, DataType::kInt8, DataType::kFloat32}));
  if (input->type == DataType::kFloat32) {
    QSEG_RETURN_IF_ERROR(check_type(*weights, "weights", {DataType::kFloat32}));
  } else {
    QSEG_RETURN_IF_ERROR(check_type(*weights, "weights", {DataType::kUInt8, DataType::kInt8}));
  }
  QSEG_RETURN_IF_ERROR(check_same_type(*weights, "weights", *input, "input"));
  QSEG_RETURN_IF_ERROR(check_same_type(*output, "output", *input, "input"));

  Conv2dParams params;
  params.type = input->type;
  QSEG_ASSIGN_OR_RETURN(params.input, nhwc_dims(*input, "input"));
  QSEG_ASSIGN_OR_RETURN(const Nhwc filter, nhwc_dims(*weights, "weights"));  // [O,KH,KW,I]
  if (filter.channels != params.input.channels) {
    return Status::error("weights have " + std::to_string(filter.channels) +
                         " input channels, the input has " + std::to_string(params.input.channels));
  }
  const int32_t channels = filter.batch;
  QSEG_ASSIGN_OR_RETURN(params.window,
                        make_window(options.padding, params.input.height, params.input.width,
                                    filter.height, filter.width, options.stride_h, options.stride_w,
                                    options.dilation_h, options.dilation_w));
  params.output = {params.input.batch, params.window.output_h, params.window.output_w, channels};
  QSEG_RETURN_IF_ERROR(check_output_shape(*output, params.output.shape()));

  QSEG_RETURN_IF_ERROR(check_conv_bias(bias, *input, channels));
  params.has_bias = bias != nullptr;
  if (params.type == DataType::kFloat32) {
    params.float_activation_range = quant::activation_range_float(options.activation);
  } else {
    QSEG_ASSIGN_OR_RETURN(
        params.quantization,
        prepare_conv_quantization(*input, *weights, bias, *output, options.activation, channels,
                                  /*channel_dimension=*/0, requantization));
  }
  return params;
}

}  // namespace qseg::kernels

// DEPTHWISE_CONV_2D prepare: checks the tensors against the op's semantics, computes parameters.
#include "kernels/depthwise_conv_2d.h"

#include <string>

#include "kernels/op_checks.h"

namespace qseg::kernels {

Result<DepthwiseConv2dParams> prepare_depthwise_conv_2d(const Graph& graph, const Op& op,
                                                        Requantization requantization) {
  QSEG_RETURN_IF_ERROR(check_io_count(op, 2, 3, 1));
  QSEG_ASSIGN_OR_RETURN(const DepthwiseConv2dOptions options,
                        options_of<DepthwiseConv2dOptions>(op, "DepthwiseConv2dOptions"));
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

  DepthwiseConv2dParams params;
  params.type = input->type;
  QSEG_ASSIGN_OR_RETURN(params.input, nhwc_dims(*input, "input"));
  QSEG_ASSIGN_OR_RETURN(const Nhwc filter, nhwc_dims(*weights, "weights"));  // [1,KH,KW,O]
  if (filter.batch != 1) {
    return Status::error("weights must have shape [1,KH,KW,O], got " +
                         shape_string(weights->shape));
  }
  const int32_t channels = filter.channels;
  params.depth_multiplier = options.depth_multiplier;
  if (options.depth_multiplier < 1 ||
      int64_t{params.input.channels} * options.depth_multiplier != channels) {
    return Status::error("weights have " + std::to_string(channels) +
                         " channels, expected input channels " +
                         std::to_string(params.input.channels) + " * depth_multiplier " +
                         std::to_string(options.depth_multiplier));
  }
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
                                  /*channel_dimension=*/3, requantization));
  }
  return params;
}

}  // namespace qseg::kernels

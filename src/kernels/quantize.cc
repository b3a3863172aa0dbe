// QUANTIZE and DEQUANTIZE prepare: type, shape and quantization checks, requantize multiplier.
#include "kernels/quantize.h"

#include <optional>
#include <string>

#include "kernels/op_checks.h"
#include "kernels/shape.h"

namespace qseg::kernels {

namespace {

Status check_same_shape(const Tensor& input, const Tensor& output) {
  return check_output_shape(output, input.shape);
}

}  // namespace

Result<QuantizeParams> prepare_quantize(const Graph& graph, const Op& op,
                                        Requantization requantization) {
  QSEG_RETURN_IF_ERROR(check_io_count(op, 1, 1, 1));
  QSEG_ASSIGN_OR_RETURN(const Tensor* input, input_tensor(graph, op, 0));
  QSEG_ASSIGN_OR_RETURN(const Tensor* output, output_tensor(graph, op, 0));
  QSEG_RETURN_IF_ERROR(
      check_type(*input, "input", {DataType::kFloat32, DataType::kUInt8, DataType::kInt8}));
  QSEG_RETURN_IF_ERROR(check_type(*output, "output", {DataType::kUInt8, DataType::kInt8}));
  QSEG_RETURN_IF_ERROR(check_same_shape(*input, *output));

  QuantizeParams params;
  params.input_type = input->type;
  params.output_type = output->type;
  params.size = output->num_elements();
  params.range = type_range(output->type);
  QSEG_ASSIGN_OR_RETURN(const TensorQuantization out, per_tensor_quantization(*output, "output"));
  params.output_scale = out.scale;
  params.output_zero_point = out.zero_point;
  if (input->type != DataType::kFloat32) {
    QSEG_ASSIGN_OR_RETURN(const TensorQuantization in, per_tensor_quantization(*input, "input"));
    params.input_zero_point = in.zero_point;
    // As TFLite's quantize.cc: the ratio of the two scales in double.
    params.multiplier =
        quant::quantize_multiplier(static_cast<double>(in.scale) / static_cast<double>(out.scale));
    // float_convert_params bounds the multiplier to [1, 2^16) and the bias to 2^30: with
    // |x| <= 255 the conversion stays inside int32.
    const std::optional<quant::FloatConvert> convert =
        quant::float_convert_params(in.scale, in.zero_point, out.scale, out.zero_point);
    params.use_float_convert = requantization == Requantization::kXnnpack &&
                               input->type == output->type && convert.has_value();
    if (convert) params.convert = *convert;
  }
  return params;
}

Result<DequantizeParams> prepare_dequantize(const Graph& graph, const Op& op) {
  QSEG_RETURN_IF_ERROR(check_io_count(op, 1, 1, 1));
  QSEG_ASSIGN_OR_RETURN(const Tensor* input, input_tensor(graph, op, 0));
  QSEG_ASSIGN_OR_RETURN(const Tensor* output, output_tensor(graph, op, 0));
  QSEG_RETURN_IF_ERROR(check_type(*input, "input", {DataType::kUInt8, DataType::kInt8}));
  QSEG_RETURN_IF_ERROR(check_type(*output, "output", {DataType::kFloat32}));
  QSEG_RETURN_IF_ERROR(check_same_shape(*input, *output));
  QSEG_ASSIGN_OR_RETURN(const TensorQuantization in, per_tensor_quantization(*input, "input"));
  DequantizeParams params;
  params.input_type = input->type;
  params.size = output->num_elements();
  params.scale = in.scale;
  params.zero_point = in.zero_point;
  return params;
}

}  // namespace qseg::kernels

// RESIZE_BILINEAR prepare: checks the tensors and computes the interpolation tables.
#include "kernels/resize_bilinear.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <variant>

#include "kernels/op_checks.h"

namespace qseg::kernels {

namespace {

// TFLite's scale and ComputeInterpolationValues, float for float.
std::vector<InterpolationTap> interpolation_taps(int32_t input_size, int32_t output_size,
                                                 bool align_corners, bool half_pixel_centers) {
  float scale = static_cast<float>(input_size) / static_cast<float>(output_size);
  if (align_corners && output_size > 1) {
    scale = static_cast<float>(input_size - 1) / static_cast<float>(output_size - 1);
  }
  std::vector<InterpolationTap> taps(output_size);
  for (int32_t i = 0; i < output_size; ++i) {
    const auto dst = static_cast<float>(i);
    const float src = half_pixel_centers ? (dst + 0.5f) * scale - 0.5f : dst * scale;
    InterpolationTap& tap = taps[i];
    // TFLite leaves lower unbounded above; src < input_size - 0.5 for every valid scale, so the
    // extra min only guards against reading past the input.
    tap.lower = std::min(std::max(static_cast<int32_t>(std::floor(src)), 0), input_size - 1);
    tap.upper = std::min(static_cast<int32_t>(std::ceil(src)), input_size - 1);
    tap.fraction = src - static_cast<float>(tap.lower);
    tap.q11 = static_cast<int32_t>(std::nearbyint(std::max(tap.fraction, 0.0f) * 2048.0f));
  }
  return taps;
}

}  // namespace

Result<ResizeBilinearParams> prepare_resize_bilinear(const Graph& graph, const Op& op,
                                                     Requantization requantization) {
  QSEG_RETURN_IF_ERROR(check_io_count(op, 2, 2, 1));
  ResizeBilinearOptions options;
  if (!std::holds_alternative<std::monostate>(op.options)) {
    QSEG_ASSIGN_OR_RETURN(options, options_of<ResizeBilinearOptions>(op, "ResizeBilinearOptions"));
  }
  if (options.align_corners && options.half_pixel_centers) {
    return Status::error("align_corners and half_pixel_centers cannot both be set");
  }
  QSEG_ASSIGN_OR_RETURN(const Tensor* input, input_tensor(graph, op, 0));
  QSEG_ASSIGN_OR_RETURN(const Tensor* size, input_tensor(graph, op, 1));
  QSEG_ASSIGN_OR_RETURN(const Tensor* output, output_tensor(graph, op, 0));
  QSEG_RETURN_IF_ERROR(
      check_type(*input, "input", {DataType::kUInt8, DataType::kInt8, DataType::kFloat32}));
  QSEG_RETURN_IF_ERROR(check_same_type(*output, "output", *input, "input"));
  QSEG_RETURN_IF_ERROR(check_type(*size, "size", {DataType::kInt32}));
  if (size->num_elements() != 2 || size->shape.size() != 1) {
    return Status::error("size must have shape [2], got " + shape_string(size->shape));
  }
  QSEG_ASSIGN_OR_RETURN(const std::vector<int64_t> new_size, constant_integers(*size, "size"));
  if (new_size[0] < 1 || new_size[1] < 1) {
    return Status::error("size must be positive, got [" + std::to_string(new_size[0]) + "," +
                         std::to_string(new_size[1]) + "]");
  }

  ResizeBilinearParams params;
  params.type = input->type;
  QSEG_ASSIGN_OR_RETURN(params.input, nhwc_dims(*input, "input"));
  if (params.input.height < 1 || params.input.width < 1) {
    return Status::error("input height and width must be positive, got " +
                         shape_string(input->shape));
  }
  params.output = {params.input.batch, static_cast<int32_t>(new_size[0]),
                   static_cast<int32_t>(new_size[1]), params.input.channels};
  QSEG_RETURN_IF_ERROR(check_output_shape(*output, params.output.shape()));
  params.rows = interpolation_taps(params.input.height, params.output.height, options.align_corners,
                                   options.half_pixel_centers);
  params.columns = interpolation_taps(params.input.width, params.output.width,
                                      options.align_corners, options.half_pixel_centers);

  if (params.type != DataType::kFloat32) {
    QSEG_ASSIGN_OR_RETURN(const TensorQuantization in, per_tensor_quantization(*input, "input"));
    QSEG_ASSIGN_OR_RETURN(const TensorQuantization out, per_tensor_quantization(*output, "output"));
    if (in.scale != out.scale || in.zero_point != out.zero_point) {
      return Status::error("input and output must have the same scale and zero point, got (" +
                           std::to_string(in.scale) + ", " + std::to_string(in.zero_point) +
                           ") and (" + std::to_string(out.scale) + ", " +
                           std::to_string(out.zero_point) + ")");
    }
    params.range = type_range(params.type);
    params.xnnpack = requantization == Requantization::kXnnpack;
  }
  const auto on_256ths = [](const InterpolationTap& t) {
    const float scaled = t.fraction * 256.0f;
    return scaled == std::floor(scaled);
  };
  params.exact_interpolation = std::all_of(params.rows.begin(), params.rows.end(), on_256ths) &&
                               std::all_of(params.columns.begin(), params.columns.end(), on_256ths);
  return params;
}

}  // namespace qseg::kernels

// RESIZE_NEAREST_NEIGHBOR prepare: checks the tensors and computes the source indices.
#include "kernels/resize_nearest_neighbor.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <variant>

#include "kernels/op_checks.h"

namespace qseg::kernels {

int32_t nearest_source_index(int32_t i, int32_t input_size, int32_t output_size, bool align_corners,
                             bool half_pixel_centers) {
  const float scale = align_corners && output_size > 1
                          ? static_cast<float>(input_size - 1) / static_cast<float>(output_size - 1)
                          : static_cast<float>(input_size) / static_cast<float>(output_size);
  const float offset = half_pixel_centers ? 0.5f : 0.0f;
  const float src = (static_cast<float>(i) + offset) * scale;
  int32_t index =
      align_corners ? static_cast<int32_t>(std::round(src)) : static_cast<int32_t>(std::floor(src));
  index = std::min(index, input_size - 1);
  if (half_pixel_centers) index = std::max(index, 0);
  return index;
}

int32_t nearest_source_index_fixed_point(int32_t i, int32_t input_size, int32_t output_size) {
  // (in << 16) / out + 1 < 2^31 for in < 2^15; i * scale is computed in 64 bits so that large
  // outputs cannot overflow (TFLite's int32 product does not overflow for the sizes it accepts).
  const int64_t scale = (int64_t{input_size} << 16) / output_size + 1;
  return static_cast<int32_t>(std::min<int64_t>((i * scale) >> 16, input_size - 1));
}

Result<ResizeNearestNeighborParams> prepare_resize_nearest_neighbor(const Graph& graph,
                                                                    const Op& op) {
  QSEG_RETURN_IF_ERROR(check_io_count(op, 2, 2, 1));
  ResizeNearestNeighborOptions options;
  if (!std::holds_alternative<std::monostate>(op.options)) {
    QSEG_ASSIGN_OR_RETURN(
        options, options_of<ResizeNearestNeighborOptions>(op, "ResizeNearestNeighborOptions"));
  }
  if (options.align_corners && options.half_pixel_centers)
    return Status::error("align_corners and half_pixel_centers cannot both be set");
  QSEG_ASSIGN_OR_RETURN(const Tensor* input, input_tensor(graph, op, 0));
  QSEG_ASSIGN_OR_RETURN(const Tensor* size, input_tensor(graph, op, 1));
  QSEG_ASSIGN_OR_RETURN(const Tensor* output, output_tensor(graph, op, 0));
  QSEG_RETURN_IF_ERROR(check_type(
      *input, "input",
      {DataType::kFloat32, DataType::kUInt8, DataType::kInt8, DataType::kInt32, DataType::kInt64}));
  QSEG_RETURN_IF_ERROR(check_same_type(*output, "output", *input, "input"));
  QSEG_RETURN_IF_ERROR(check_type(*size, "size", {DataType::kInt32}));
  if (size->shape != std::vector<int32_t>{2})
    return Status::error("size must have shape [2], got " + shape_string(size->shape));
  QSEG_ASSIGN_OR_RETURN(const std::vector<int64_t> new_size, constant_integers(*size, "size"));
  if (new_size[0] < 1 || new_size[1] < 1) {
    return Status::error("size must be positive, got [" + std::to_string(new_size[0]) + "," +
                         std::to_string(new_size[1]) + "]");
  }

  ResizeNearestNeighborParams p;
  p.element_bytes = static_cast<int64_t>(data_type_size(input->type));
  QSEG_ASSIGN_OR_RETURN(p.input, nhwc_dims(*input, "input"));
  if (p.input.height < 1 || p.input.width < 1 || p.input.height >= (1 << 15) ||
      p.input.width >= (1 << 15)) {
    return Status::error("input height and width must be in [1, 32767], got " +
                         shape_string(input->shape));
  }
  p.output = {p.input.batch, static_cast<int32_t>(new_size[0]), static_cast<int32_t>(new_size[1]),
              p.input.channels};
  QSEG_RETURN_IF_ERROR(check_output_shape(*output, p.output.shape()));
  const bool fixed_point =
      input->type == DataType::kUInt8 && !options.align_corners && !options.half_pixel_centers;
  auto source = [&](int32_t i, int32_t in, int32_t out) {
    return fixed_point ? nearest_source_index_fixed_point(i, in, out)
                       : nearest_source_index(i, in, out, options.align_corners,
                                              options.half_pixel_centers);
  };
  for (int32_t y = 0; y < p.output.height; ++y)
    p.source_rows.push_back(source(y, p.input.height, p.output.height));
  for (int32_t x = 0; x < p.output.width; ++x)
    p.source_columns.push_back(source(x, p.input.width, p.output.width));
  return p;
}

}  // namespace qseg::kernels

// BATCH_TO_SPACE_ND prepare: block shape, crops and the output shape they give.
#include "kernels/batch_to_space_nd.h"

#include <string>

#include "kernels/op_checks.h"
#include "kernels/space_to_batch_nd.h"

namespace qseg::kernels {

Result<BatchToSpaceNdParams> prepare_batch_to_space_nd(const Graph& graph, const Op& op) {
  QSEG_RETURN_IF_ERROR(check_io_count(op, 3, 3, 1));
  QSEG_ASSIGN_OR_RETURN(const Tensor* input, input_tensor(graph, op, 0));
  QSEG_ASSIGN_OR_RETURN(const Tensor* output, output_tensor(graph, op, 0));
  QSEG_RETURN_IF_ERROR(check_type(
      *input, "input",
      {DataType::kFloat32, DataType::kInt32, DataType::kInt64, DataType::kUInt8, DataType::kInt8}));
  QSEG_RETURN_IF_ERROR(check_same_type(*output, "output", *input, "input"));
  QSEG_ASSIGN_OR_RETURN(const BlockShape s,
                        read_block_shape(graph, op, input->shape.size(), "crops"));
  const std::vector<int32_t>& shape = input->shape;
  const Nhwc in = shape.size() == 3 ? Nhwc{shape[0], shape[1], 1, shape[2]}
                                    : Nhwc{shape[0], shape[1], shape[2], shape[3]};
  const int64_t block = int64_t{s.block_h} * s.block_w;
  if (in.batch % block != 0) {
    return Status::error("input batch " + std::to_string(in.batch) +
                         " is not a multiple of the block size " + std::to_string(block));
  }
  const int64_t height = int64_t{in.height} * s.block_h - s.before_h - s.after_h;
  const int64_t width = int64_t{in.width} * s.block_w - s.before_w - s.after_w;
  if (height < 0 || width < 0 || height > INT32_MAX || width > INT32_MAX) {
    return Status::error("crops leave a spatial shape of " + std::to_string(height) + "x" +
                         std::to_string(width));
  }
  const Nhwc out{static_cast<int32_t>(in.batch / block), static_cast<int32_t>(height),
                 static_cast<int32_t>(width), in.channels};
  std::vector<int32_t> expected = out.shape();
  if (shape.size() == 3) expected = {out.batch, out.height, out.channels};
  QSEG_RETURN_IF_ERROR(check_output_shape(*output, expected));

  BatchToSpaceNdParams p;
  p.element_bytes = static_cast<int64_t>(data_type_size(input->type));
  p.input = in;
  p.output = out;
  p.block_h = s.block_h;
  p.block_w = s.block_w;
  p.crop_top = s.before_h;
  p.crop_left = s.before_w;
  return p;
}

}  // namespace qseg::kernels

// SPACE_TO_BATCH_ND prepare (and the block shape and paddings or crops that BATCH_TO_SPACE_ND
// reads the same way).
#include "kernels/space_to_batch_nd.h"

#include <limits>
#include <string>

#include "kernels/element_copy.h"
#include "kernels/op_checks.h"

namespace qseg::kernels {

Result<BlockShape> read_block_shape(const Graph& graph, const Op& op, size_t rank,
                                    std::string_view pairs_role) {
  if (rank != 3 && rank != 4)
    return Status::error("input must have rank 3 or 4, got rank " + std::to_string(rank));
  const auto spatial = static_cast<int64_t>(rank - 2);
  QSEG_ASSIGN_OR_RETURN(const Tensor* block_tensor, input_tensor(graph, op, 1));
  QSEG_ASSIGN_OR_RETURN(const Tensor* pairs_tensor, input_tensor(graph, op, 2));
  QSEG_ASSIGN_OR_RETURN(const std::vector<int64_t> block,
                        constant_integers(*block_tensor, "block_shape"));
  if (block_tensor->shape != std::vector<int32_t>{static_cast<int32_t>(spatial)}) {
    return Status::error("block_shape must have shape [" + std::to_string(spatial) + "], got " +
                         shape_string(block_tensor->shape));
  }
  for (const int64_t b : block) {
    if (b < 1 || b > std::numeric_limits<int32_t>::max())
      return Status::error("block_shape values must be >= 1, got " + std::to_string(b));
  }
  QSEG_ASSIGN_OR_RETURN(const auto pairs, constant_pairs(*pairs_tensor, pairs_role, spatial));
  BlockShape s;
  s.block_h = static_cast<int32_t>(block[0]);
  s.before_h = static_cast<int32_t>(pairs[0].first);
  s.after_h = static_cast<int32_t>(pairs[0].second);
  if (spatial == 2) {
    s.block_w = static_cast<int32_t>(block[1]);
    s.before_w = static_cast<int32_t>(pairs[1].first);
    s.after_w = static_cast<int32_t>(pairs[1].second);
  }
  return s;
}

namespace {

// [N,H,W,C], or [N,H,C] viewed as [N,H,1,C].
Nhwc spatial_dims(const Tensor& t) {
  const std::vector<int32_t>& s = t.shape;
  if (s.size() == 3) return {s[0], s[1], 1, s[2]};
  return {s[0], s[1], s[2], s[3]};
}

}  // namespace

Result<SpaceToBatchNdParams> prepare_space_to_batch_nd(const Graph& graph, const Op& op) {
  QSEG_RETURN_IF_ERROR(check_io_count(op, 3, 3, 1));
  QSEG_ASSIGN_OR_RETURN(const Tensor* input, input_tensor(graph, op, 0));
  QSEG_ASSIGN_OR_RETURN(const Tensor* output, output_tensor(graph, op, 0));
  QSEG_RETURN_IF_ERROR(check_type(
      *input, "input",
      {DataType::kFloat32, DataType::kInt32, DataType::kInt64, DataType::kUInt8, DataType::kInt8}));
  QSEG_RETURN_IF_ERROR(check_same_type(*output, "output", *input, "input"));
  QSEG_ASSIGN_OR_RETURN(const BlockShape s,
                        read_block_shape(graph, op, input->shape.size(), "paddings"));
  const Nhwc in = spatial_dims(*input);
  const int64_t padded_h = int64_t{in.height} + s.before_h + s.after_h;
  const int64_t padded_w = int64_t{in.width} + s.before_w + s.after_w;
  if (padded_h % s.block_h != 0 || padded_w % s.block_w != 0) {
    return Status::error("padded spatial shape " + std::to_string(padded_h) + "x" +
                         std::to_string(padded_w) + " is not a multiple of the block shape " +
                         std::to_string(s.block_h) + "x" + std::to_string(s.block_w));
  }
  const int64_t batch = int64_t{in.batch} * s.block_h * s.block_w;
  if (batch > std::numeric_limits<int32_t>::max())
    return Status::error("output batch " + std::to_string(batch) + " does not fit in int32");
  Nhwc out{static_cast<int32_t>(batch), static_cast<int32_t>(padded_h / s.block_h),
           static_cast<int32_t>(padded_w / s.block_w), in.channels};
  std::vector<int32_t> expected = out.shape();
  if (input->shape.size() == 3) expected = {out.batch, out.height, out.channels};
  QSEG_RETURN_IF_ERROR(check_output_shape(*output, expected));

  SpaceToBatchNdParams p;
  p.element_bytes = static_cast<int64_t>(data_type_size(input->type));
  p.input = in;
  p.output = out;
  p.block_h = s.block_h;
  p.block_w = s.block_w;
  p.pad_top = s.before_h;
  p.pad_left = s.before_w;
  std::vector<uint8_t> element(static_cast<size_t>(p.element_bytes), 0);
  if (is_quantized_8bit(output->type)) {
    QSEG_ASSIGN_OR_RETURN(const TensorQuantization q, per_tensor_quantization(*output, "output"));
    element[0] = static_cast<uint8_t>(q.zero_point);
  }
  p.pad_pixel.resize(static_cast<size_t>(in.channels * p.element_bytes));
  fill_elements(p.pad_pixel.data(), element.data(), p.element_bytes, in.channels);
  return p;
}

}  // namespace qseg::kernels

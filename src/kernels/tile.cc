// TILE prepare: the multiples, the output shape they give, and the row layout of the copy.
#include "kernels/tile.h"

#include <limits>
#include <string>

#include "kernels/element_copy.h"
#include "kernels/op_checks.h"
#include "kernels/shape.h"

namespace qseg::kernels {

Result<TileParams> prepare_tile(const Graph& graph, const Op& op) {
  QSEG_RETURN_IF_ERROR(check_io_count(op, 2, 2, 1));
  QSEG_ASSIGN_OR_RETURN(const Tensor* input, input_tensor(graph, op, 0));
  QSEG_ASSIGN_OR_RETURN(const Tensor* multiples_tensor, input_tensor(graph, op, 1));
  QSEG_ASSIGN_OR_RETURN(const Tensor* output, output_tensor(graph, op, 0));
  QSEG_RETURN_IF_ERROR(check_same_type(*output, "output", *input, "input"));
  QSEG_ASSIGN_OR_RETURN(const std::vector<int64_t> multiples,
                        constant_integers(*multiples_tensor, "multiples"));
  const size_t rank = input->shape.size();
  if (multiples.size() != rank) {
    return Status::error("multiples holds " + std::to_string(multiples.size()) +
                         " values for an input of rank " + std::to_string(rank));
  }
  std::vector<int32_t> expected;
  for (size_t d = 0; d < rank; ++d) {
    if (multiples[d] < 0)
      return Status::error("multiples must be >= 0, got " + std::to_string(multiples[d]));
    const int64_t size = input->shape[d] * multiples[d];
    if (multiples[d] > std::numeric_limits<int32_t>::max() ||
        size > std::numeric_limits<int32_t>::max()) {
      return Status::error("output dim " + std::to_string(d) + " (" +
                           std::to_string(input->shape[d]) + " x " + std::to_string(multiples[d]) +
                           ") does not fit in int32");
    }
    expected.push_back(static_cast<int32_t>(size));
  }
  QSEG_RETURN_IF_ERROR(check_output_shape(*output, expected));

  TileParams p;
  p.element_bytes = static_cast<int64_t>(data_type_size(input->type));
  p.input_shape = rank == 0 ? std::vector<int32_t>{1} : input->shape;
  p.output_shape = rank == 0 ? std::vector<int32_t>{1} : expected;
  p.input_strides = element_strides(p.input_shape);
  p.rows = 1;
  for (size_t d = 0; d + 1 < p.output_shape.size(); ++d) p.rows *= p.output_shape[d];
  return p;
}

}  // namespace qseg::kernels

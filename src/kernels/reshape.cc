// RESHAPE prepare: element count, type and requested-shape consistency checks.
#include "kernels/reshape.h"

#include <limits>
#include <string>
#include <variant>
#include <vector>

#include "kernels/op_checks.h"
#include "kernels/shape.h"

namespace qseg::kernels {

namespace {

// The requested shape with a -1 (at most one) replaced so that it holds `elements` elements.
Result<std::vector<int32_t>> resolve_shape(const std::vector<int64_t>& requested,
                                           int64_t elements) {
  std::vector<int32_t> shape;
  int inferred = -1;
  int64_t known = 1;
  for (size_t i = 0; i < requested.size(); ++i) {
    const int64_t d = requested[i];
    if (d == -1) {
      if (inferred >= 0) return Status::error("the requested shape has more than one -1");
      inferred = static_cast<int>(i);
      shape.push_back(0);
    } else if (d < 0 || d > std::numeric_limits<int32_t>::max()) {
      return Status::error("the requested shape has an invalid dim " + std::to_string(d));
    } else {
      if (__builtin_mul_overflow(known, d, &known))
        return Status::error("the requested shape holds more elements than int64 can count");
      shape.push_back(static_cast<int32_t>(d));
    }
  }
  if (inferred >= 0) {
    if (known == 0 || elements % known != 0) {
      return Status::error("cannot infer the -1 dim of the requested shape for " +
                           std::to_string(elements) + " elements");
    }
    shape[inferred] = static_cast<int32_t>(elements / known);
  }
  return shape;
}

}  // namespace

Result<ReshapeParams> prepare_reshape(const Graph& graph, const Op& op) {
  QSEG_RETURN_IF_ERROR(check_io_count(op, 1, 2, 1));
  QSEG_ASSIGN_OR_RETURN(const Tensor* input, input_tensor(graph, op, 0));
  QSEG_ASSIGN_OR_RETURN(const Tensor* shape_input, optional_input_tensor(graph, op, 1));
  QSEG_ASSIGN_OR_RETURN(const Tensor* output, output_tensor(graph, op, 0));
  QSEG_RETURN_IF_ERROR(check_same_type(*output, "output", *input, "input"));
  if (output->num_elements() != input->num_elements()) {
    return Status::error("output shape " + shape_string(output->shape) + " holds " +
                         std::to_string(output->num_elements()) + " elements, the input shape " +
                         shape_string(input->shape) + " holds " +
                         std::to_string(input->num_elements()));
  }

  std::vector<int64_t> requested;
  bool known = false;
  if (shape_input != nullptr && shape_input->is_constant) {
    QSEG_ASSIGN_OR_RETURN(requested, constant_integers(*shape_input, "shape"));
    known = true;
  } else if (const auto* options = std::get_if<ReshapeOptions>(&op.options);
             options != nullptr && !options->new_shape.empty()) {
    requested.assign(options->new_shape.begin(), options->new_shape.end());
    known = true;
  }
  if (known) {
    QSEG_ASSIGN_OR_RETURN(const std::vector<int32_t> shape,
                          resolve_shape(requested, input->num_elements()));
    QSEG_RETURN_IF_ERROR(check_output_shape(*output, shape));
  }
  return ReshapeParams{input->byte_size()};
}

}  // namespace qseg::kernels

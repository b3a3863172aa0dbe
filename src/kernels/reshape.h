// RESHAPE: the parameters prepared once from the graph, and the reference kernel (a byte copy).
#pragma once

#include <cstdint>

#include "qseg/graph.h"
#include "qseg/status.h"

namespace qseg::kernels {

struct ReshapeParams {
  int64_t bytes = 0;
};

// Inputs: input, and optionally a shape tensor. The output shape is the output tensor's; it must
// hold as many elements as the input, have the input's type, and agree with the requested shape
// when that is known at prepare time (a constant shape input, else a non-empty
// ReshapeOptions::new_shape), with at most one -1 inferred. Quantization is not checked: the
// bytes are copied as they are, as in TFLite.
Result<ReshapeParams> prepare_reshape(const Graph& graph, const Op& op);

namespace ref {

// Copies params.bytes from input to output; nothing to do when the interpreter made them alias.
void reshape(const ReshapeParams& params, const void* input, void* output);

}  // namespace ref
}  // namespace qseg::kernels

// The one structural check of a Graph, whoever built it: the .tflite reader, the writer and
// Interpreter::create all call validate_graph before they index anything.
#pragma once

#include <vector>

#include "qseg/graph.h"
#include "qseg/status.h"

namespace qseg {

// Checks, with errors that name the tensor ("tensor 2 'conv/weights': ...") or the op
// ("op 3 (ADD): ..."):
// - tensors: a valid type; a shape of non-negative dimensions holding at most 2^40 elements;
//   constant data of exactly shape * type size bytes (a constant with elements has data);
//   quantization with as many zero points as scales, one scale or one per slice of the
//   quantized dimension, finite positive scales, zero points in [-32768, 65535], and at most
//   one finite [min, max] range;
// - ops: a valid type, at least one output, tensor indices in range (inputs may be kNoTensor,
//   an absent optional input), options of the op's type;
// - the graph: inputs and outputs in range and not empty;
// - dataflow, in op order: graph inputs are not constants; every op input is a constant, a
//   graph input or an earlier op's output; each tensor is written once; outputs are written.
Status validate_graph(const Graph& graph);

// The indices of the ops qseg cannot run (OpType::kUnsupported: kept by the reader so that the
// model can be inspected), in order.
std::vector<int> unsupported_ops(const Graph& graph);
// "qseg cannot run this op (TFLite builtin code 99)": the error of one unsupported op, without
// the op's label.
Status unsupported_op_error(const Op& op);
// An error naming the first op qseg cannot run, its index and its TFLite name ("op 76
// (SQUARED_DIFFERENCE): qseg cannot run this op (TFLite builtin code 99); 2 ops of the model
// cannot run"); ok when it runs every op. Interpreter::create calls it after validate_graph.
Status check_runnable(const Graph& graph);

}  // namespace qseg

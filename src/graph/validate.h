// The one structural check of a Graph, whoever built it: the .tflite reader, the writer and
// Interpreter::create all call validate_graph before they index anything.
#pragma once

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

}  // namespace qseg

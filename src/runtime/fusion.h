// The fusion pass: which runs of consecutive ops one optimized kernel computes, and that kernel.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "kernels/kernel.h"
#include "qseg/graph.h"

namespace qseg {

// Ops [first, first + count) run as `kernel`: it reads the first op's inputs and writes the
// last op's outputs; the tensors between them are never written.
struct FusedRun {
  int32_t first = 0;
  int32_t count = 0;
  std::unique_ptr<Kernel> kernel;
};

// The policy, walking the ops in order and taking the first match at each op:
// - with `fuse_inverted_residuals`, MobileNetV2's inverted residual (1x1 CONV_2D,
//   DEPTHWISE_CONV_2D, 1x1 CONV_2D, each intermediate read by the next op alone) as one kernel
//   over bands of rows;
// - RESIZE_BILINEAR followed by ARG_MAX over its channels (the final upsampling of a
//   segmentation model) as one kernel that never writes the resized tensor.
// Only for an optimized `options.isa` (none for kReference). A run is fused only when every
// one of its ops passes its own prepare (the fused kernels prepare each op with the reference
// prepare and options' arithmetic), so fusing never hides an error of the graph.
std::vector<FusedRun> fuse_ops(const Graph& graph, const KernelOptions& options,
                               bool fuse_inverted_residuals);

}  // namespace qseg

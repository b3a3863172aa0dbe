// Static facts about a Graph: multiply-adds per op, weight bytes.
#pragma once

#include <cstdint>

#include "qseg/graph.h"

namespace qseg {

// Multiply-accumulate operations of one op: CONV_2D counts out_h*out_w*out_c*k_h*k_w*in_c,
// DEPTHWISE_CONV_2D out_h*out_w*out_c*k_h*k_w; other ops count 0 (they do no
// multiply-accumulate work worth counting next to these).
int64_t op_multiply_adds(const Graph& graph, int op_index);
int64_t total_multiply_adds(const Graph& graph);

// The multiply-adds of RESIZE_BILINEAR ops at 2 per output value (a separable bilinear
// interpolation: one horizontal and one vertical multiply-add). Added to the convolutions'
// count this reproduces the figures DeepLab publishes for its models (0.88 B for the dm0.5
// model at 513x513, 2.75 B for dm1.0), which count the upsampling of the logits to the input.
int64_t resize_multiply_adds(const Graph& graph);

// Bytes of all constant tensors (weights, biases, shape constants).
int64_t constant_bytes(const Graph& graph);

}  // namespace qseg

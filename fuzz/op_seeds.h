// Small models of one op each (two for the fused RESIZE_BILINEAR + ARG_MAX), for every op and
// tensor type qseg runs: fuzz_tflite's seeds for the checks of every op's prepare. A mutation of
// a file of a few hundred bytes lands on an op's options, shapes or quantization far more often
// than one of a whole DeepLab model, which is mostly weights.
#pragma once

#include <string>
#include <vector>

#include "qseg/graph.h"

namespace qseg::fuzz {

struct NamedGraph {
  std::string name;  // file stem, e.g. "conv_2d_uint8"
  Graph graph;
};

std::vector<NamedGraph> op_seed_graphs();

}  // namespace qseg::fuzz

// fuzz_tflite's structure-aware mutator: a model is decoded to the graph IR, one to three of its
// fields change (a shape, a type, quantization, constant data, op options, op type, wiring, the
// op list), and the graph is written back. Byte mutations rarely get past the FlatBuffer
// verifier and the reader's checks with a model that still prepares; these mutations keep the
// file well formed, so the interpreter's checks and kernels see the odd structures instead.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <vector>

#include "qseg/graph.h"

namespace qseg::fuzz {

// Changes 1 to 3 things in `graph`; the result may be invalid (the writer then refuses it).
void mutate_graph(Graph& graph, std::minstd_rand& rng);

// Decodes `bytes` as a .tflite model, mutates it and writes it back, followed by one byte that
// picks the kernels (fuzz_tflite reads the last byte). Empty when the bytes are not a model the
// reader accepts, or no mutation within a few tries gave a changed graph that writes and reads
// back within `max_size` bytes: the caller then mutates bytes instead.
std::optional<std::vector<uint8_t>> mutate_tflite(std::span<const uint8_t> bytes, size_t max_size,
                                                  uint32_t seed);

}  // namespace qseg::fuzz

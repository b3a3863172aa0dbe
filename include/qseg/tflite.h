// Reading and writing TensorFlow Lite FlatBuffer models as qseg Graphs. Every index, shape, type
// and buffer size in a file is checked before use; errors name the file and the tensor or op at
// fault.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "qseg/graph.h"
#include "qseg/status.h"

namespace qseg {

// Bounds applied before anything is allocated from what a file claims. The defaults fit the
// published DeepLab models with a wide margin and a device's memory.
// Defaults fit a device (the published DeepLab models are 0.8-2.2 MB with about 100 ops); the
// command line raises them (--max-model-mb, --max-ops, --max-tensors).
struct ModelLimits {
  int64_t max_file_bytes = int64_t{256} << 20;  // 256 MiB (FlatBuffers itself stops at 2 GiB)
  int64_t max_tensors = 50000;
  int64_t max_ops = 10000;
  int32_t max_rank = 8;
  int64_t max_tensor_bytes = int64_t{256} << 20;  // per tensor
};

Result<Graph> read_tflite(std::span<const uint8_t> bytes, const std::string& name,
                          const ModelLimits& limits = {});
Result<Graph> read_tflite_file(const std::filesystem::path& path, const ModelLimits& limits = {});

// Graph -> .tflite (schema version 3) as TensorFlow Lite's own converter lays it out: one
// subgraph, buffer 0 empty, one 16-byte aligned buffer per constant tensor, operator codes with
// both the byte and the int32 builtin code. Everything read_tflite reads is written, so reading
// the result gives the same Graph; the output is deterministic (same Graph, same bytes). The
// Graph is checked first (indices, data sizes, quantization, options matching each op).
Result<std::vector<uint8_t>> write_tflite(const Graph& graph);
// Writes PATH.tmp, flushes it to disk, then renames it to PATH, so PATH is either the old file or
// the complete new one; on failure nothing is left behind and the error names the file.
Status write_tflite_file(const Graph& graph, const std::filesystem::path& path);

}  // namespace qseg

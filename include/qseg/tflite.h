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
#include "qseg/limits.h"
#include "qseg/status.h"

namespace qseg {

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

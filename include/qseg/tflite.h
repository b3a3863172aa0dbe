// Reading (and later writing) TensorFlow Lite FlatBuffer models as qseg Graphs. Every index,
// shape, type and buffer size in the file is checked before use; errors name the file and the
// tensor or op at fault.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

#include "qseg/graph.h"
#include "qseg/status.h"

namespace qseg {

// Bounds applied before anything is allocated from what a file claims. The defaults fit the
// published DeepLab models with a wide margin and a device's memory.
struct ModelLimits {
  int64_t max_file_bytes = int64_t{1} << 30;  // 1 GiB (FlatBuffers itself stops at 2 GiB)
  int64_t max_tensors = 100000;
  int64_t max_ops = 100000;
  int32_t max_rank = 8;
  int64_t max_tensor_bytes = int64_t{1} << 30;  // per tensor
};

Result<Graph> read_tflite(std::span<const uint8_t> bytes, const std::string& name,
                          const ModelLimits& limits = {});
Result<Graph> read_tflite_file(const std::filesystem::path& path, const ModelLimits& limits = {});

}  // namespace qseg

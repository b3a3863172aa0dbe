// The checkpoint file: a JSON header (model config, training state) and named float32 tensors,
// written atomically and checked on read. No libtorch: the converter and tools read it too.
//
// Layout (little-endian): "QSEGCKPT", u32 version (1), u32 0, u64 header size H, H bytes of
// JSON {"meta": {...}, "tensors": [{"name", "shape", "offset", "size"}, ...]}, the tensor data
// (each at its offset from the end of the header, 64-byte aligned), then a u64 FNV-1a hash of
// every byte before it. Tensor names are TensorFlow's ("MobilenetV2/Conv/weights",
// ".../BatchNorm/moving_mean", "aspp0/act_quant/range"); conv weights are in libtorch's layout
// [out, in / groups, kh, kw].
//
// Header kept C++17 (it is included by libtorch translation units).
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "qseg/class_set.h"
#include "qseg/status.h"

namespace qseg::model {

struct CheckpointTensor {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> data;  // product(shape) values
};

struct CheckpointFile {
  nlohmann::json meta = nlohmann::json::object();
  std::vector<CheckpointTensor> tensors;

  const CheckpointTensor* find(const std::string& name) const;
  // meta["quantized"] when it is there and a boolean (a file from anywhere may say anything).
  bool quantized() const;
};

// The 64-bit FNV-1a hash of bytes, continuing from `hash` (the file's check; training also uses
// it to compare replicas' weights).
inline constexpr uint64_t kFnv1aStart = 14695981039346656037ull;
uint64_t fnv1a(const uint8_t* data, size_t size, uint64_t hash = kFnv1aStart);

// The file's bytes, and back (errors name `name`): what replicas of a distributed run send each
// other instead of sharing a filesystem.
Result<std::vector<uint8_t>> encode_checkpoint(const CheckpointFile& checkpoint,
                                               const std::string& name);
Result<CheckpointFile> decode_checkpoint(const std::vector<uint8_t>& bytes,
                                         const std::string& name);

// Replaces PATH with `size` bytes through io::write_file_durably (src/io/durable_write.h): a kill
// at any instant, a power cut or a full disk leaves the old file or the new one, never a mix.
// Errors name PATH and the cause (ENOSPC, EFBIG, ...), say that the previous file is untouched, and
// leave no PATH.tmp.
Status replace_file_durably(const std::filesystem::path& path, const uint8_t* data, size_t size);

// The checkpoint's bytes, through replace_file_durably.
Status write_checkpoint_file(const std::filesystem::path& path, const CheckpointFile& checkpoint);

// The class names and colours a checkpoint may carry in its metadata: meta["class_names"], an
// array of strings (one per class, in id order), and optionally meta["class_colors"], an array of
// "#RRGGBB" strings, one per name. None when there are no names; an error (naming `name`) for
// entries of the wrong type, a colour that is not #RRGGBB, or names a labels file would refuse.
Result<std::optional<ClassSet>> checkpoint_classes(const CheckpointFile& checkpoint,
                                                   const std::string& name);
// Writes `classes` as those two entries.
void set_checkpoint_classes(CheckpointFile* checkpoint, const ClassSet& classes);

// Whether the file starts as a checkpoint does (its magic bytes); false when it cannot be read.
bool is_checkpoint_file(const std::filesystem::path& path);

// Errors name the file: missing, not a checkpoint, truncated, hash mismatch (corrupt), bad
// header, a tensor outside the file or whose size does not match its shape, a name twice.
Result<CheckpointFile> read_checkpoint_file(const std::filesystem::path& path);

}  // namespace qseg::model

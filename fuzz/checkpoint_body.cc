// fuzz_checkpoint: any bytes as a training checkpoint, then what readers do with a decoded one:
// the model config, its layer list, and the export of the frozen float graph.
#include <cstring>
#include <vector>

#include "convert/convert.h"
#include "fuzz_bodies.h"
#include "model/checkpoint_file.h"
#include "model/model_config.h"

namespace qseg::fuzz {
namespace {

// The checkpoint's trailing FNV-1a hash of every byte before it (checkpoint_file.h). Mutated
// inputs almost never match it, so the body also tries each input with the hash made right.
uint64_t fnv1a(const uint8_t* data, size_t size) {
  uint64_t hash = 14695981039346656037ull;
  for (size_t i = 0; i < size; ++i) {
    hash ^= data[i];
    hash *= 1099511628211ull;
  }
  return hash;
}

void use_checkpoint(const model::CheckpointFile& checkpoint) {
  if (!checkpoint.meta.is_object() || !checkpoint.meta.contains("model")) return;
  Result<model::DeepLabConfig> config = model::config_from_json(checkpoint.meta.at("model"));
  if (!config.is_ok()) return;
  Result<model::DeepLabSpec> spec = model::deeplab_spec(config.value());
  if (!spec.is_ok()) return;
  (void)model::config_to_json(config.value());
  // A small input keeps the exported graph's activations small whatever the config says.
  convert::ExportOptions options;
  options.input_height = options.input_width = 33;
  Result<convert::FrozenGraph> frozen = convert::export_checkpoint(checkpoint, "fuzz", options);
  if (!frozen.is_ok()) return;
  (void)convert::frozen_to_graph(frozen.value());
}

}  // namespace

void fuzz_checkpoint(std::span<const uint8_t> bytes) {
  std::vector<uint8_t> file(bytes.begin(), bytes.end());
  Result<model::CheckpointFile> decoded = model::decode_checkpoint(file, "fuzz.ckpt");
  if (decoded.is_ok()) use_checkpoint(decoded.value());
  if (file.size() < 32) return;
  const size_t body = file.size() - 8;
  const uint64_t hash = fnv1a(file.data(), body);
  if (std::memcmp(file.data() + body, &hash, sizeof hash) == 0) return;  // tried above
  std::memcpy(file.data() + body, &hash, sizeof hash);
  Result<model::CheckpointFile> fixed = model::decode_checkpoint(file, "fuzz.ckpt");
  if (fixed.is_ok()) use_checkpoint(fixed.value());
}

}  // namespace qseg::fuzz

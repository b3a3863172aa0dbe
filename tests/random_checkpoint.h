// A DeepLab checkpoint with deterministic random weights for any config (ASPP rates, the
// DeepLabV3+ decoder, any output stride), without libtorch and without training: what the export
// and conversion tests build models from. Weights are uniform with the variance of He's
// initialization over each layer's fan-in, so activations neither vanish nor explode through the
// ~60 layers; batch-norm statistics are random too, so that folding them matters. It carries no
// activation ranges: calibrate the exported graph (convert::calibrate) to quantize it.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "model/checkpoint_file.h"
#include "model/model_config.h"
#include "qseg/status.h"

namespace qseg::test {

// Values uniform in [low, high], from a linear congruential generator (the same on every machine).
class UniformValues {
 public:
  explicit UniformValues(uint32_t seed) : state_(seed) {}
  std::vector<float> next(size_t count, float low, float high) {
    std::vector<float> out(count);
    for (float& v : out) {
      state_ = state_ * 1664525u + 1013904223u;
      v = low + (high - low) * (static_cast<float>(state_ >> 8) / static_cast<float>(1 << 24));
    }
    return out;
  }

 private:
  uint32_t state_;
};

inline Result<model::CheckpointFile> random_checkpoint(const model::DeepLabConfig& config,
                                                       uint32_t seed = 1) {
  QSEG_ASSIGN_OR_RETURN(model::DeepLabSpec spec, model::deeplab_spec(config));
  model::CheckpointFile file;
  file.meta["format"] = "qseg-deeplab-checkpoint";
  file.meta["model"] = model::config_to_json(config);
  UniformValues values(seed);
  for (const model::LayerSpec& layer : spec.layers) {
    const std::vector<int64_t> shape = model::weight_shape(layer);
    const int64_t fan_in = shape[1] * shape[2] * shape[3];
    const float bound = std::sqrt(6.0f / static_cast<float>(fan_in));  // He: variance 2 / fan-in
    file.tensors.push_back({model::weight_name(layer), shape,
                            values.next(static_cast<size_t>(shape[0] * fan_in), -bound, bound)});
    const std::vector<int64_t> vector = {layer.out_channels};
    const auto n = static_cast<size_t>(layer.out_channels);
    if (layer.batch_norm) {
      const std::string bn = layer.name + "/BatchNorm/";
      file.tensors.push_back({bn + "gamma", vector, values.next(n, 0.5f, 1.5f)});
      file.tensors.push_back({bn + "beta", vector, values.next(n, -0.2f, 0.2f)});
      file.tensors.push_back({bn + "moving_mean", vector, values.next(n, -0.2f, 0.2f)});
      file.tensors.push_back({bn + "moving_variance", vector, values.next(n, 0.5f, 2.0f)});
    } else if (layer.bias) {
      file.tensors.push_back({layer.name + "/biases", vector, values.next(n, -0.5f, 0.5f)});
    }
  }
  return file;
}

}  // namespace qseg::test

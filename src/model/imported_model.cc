// A .tflite's DeepLab weights as a folded checkpoint, checked against the architecture.
#include "model/imported_model.h"

#include <set>
#include <string>

namespace qseg::model {

DeepLabConfig imported_config(const ImportedWeights& weights, int output_stride, int input_size) {
  DeepLabConfig config;
  config.depth_multiplier = weights.depth_multiplier;
  config.output_stride = output_stride > 0 ? output_stride : weights.output_stride;
  config.num_classes = weights.num_classes;
  config.input_height = config.input_width = input_size > 0 ? input_size : weights.input_size;
  config.folded = true;
  return config;
}

namespace {

int64_t elements(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

}  // namespace

Result<CheckpointFile> imported_checkpoint(const ImportedWeights& weights, int output_stride,
                                           int input_size) {
  const DeepLabConfig config = imported_config(weights, output_stride, input_size);
  auto spec = deeplab_spec(config);
  if (!spec.is_ok()) return spec.status().with_context(weights.source);
  CheckpointFile file;
  file.meta["format"] = "qseg-deeplab-checkpoint";
  file.meta["model"] = config_to_json(spec.value().config);
  for (const LayerSpec& layer : spec.value().layers) {
    auto it = weights.layers.find(layer.name);
    if (it == weights.layers.end()) {
      return Status::error(weights.source + ": has no layer " + layer.name + " (depth multiplier " +
                           std::to_string(config.depth_multiplier) + ")");
    }
    const ImportedLayer& source = it->second;
    const std::vector<int64_t> shape = weight_shape(layer);
    if (source.weight_shape != shape ||
        static_cast<int64_t>(source.weight.size()) != elements(shape) ||
        static_cast<int>(source.bias.size()) != layer.out_channels) {
      return Status::error(
          weights.source + ": layer " + layer.name + " has weights of another shape than a " +
          "DeepLab MobileNetV2 with depth multiplier " + std::to_string(config.depth_multiplier));
    }
    file.tensors.push_back({weight_name(layer), shape, source.weight});
    if (layer.bias) {
      file.tensors.push_back({layer.name + "/biases", {layer.out_channels}, source.bias});
    }
  }
  if (weights.layers.size() != spec.value().layers.size()) {
    return Status::error(weights.source + ": has " + std::to_string(weights.layers.size()) +
                         " convolutions, a DeepLab MobileNetV2 with this head has " +
                         std::to_string(spec.value().layers.size()));
  }
  // The layers' output ranges in layer order, then the others (adds, concatenations) by name:
  // the order in which the libtorch model saves them.
  std::set<std::string> layer_ranges;
  for (const LayerSpec& layer : spec.value().layers) {
    auto range = weights.ranges.find(layer.name + "/act_quant");
    if (range == weights.ranges.end()) continue;
    layer_ranges.insert(range->first);
    file.tensors.push_back(
        {range_name(range->first), {2}, {range->second.first, range->second.second}});
  }
  for (const auto& [scope, range] : weights.ranges) {
    if (layer_ranges.count(scope)) continue;
    file.tensors.push_back({range_name(scope), {2}, {range.first, range.second}});
  }
  for (const auto& [layer_name, layer] : weights.layers) {
    if (layer.weight_quantized) {
      file.tensors.push_back({layer_name + "/weights_quantization",
                              {2},
                              {layer.weight_scale, static_cast<float>(layer.weight_zero_point)}});
    }
  }
  file.meta["quantized"] = weights.quantized;
  file.meta["origin"] = {{"import", weights.source}, {"quantized", weights.quantized}};
  return file;
}

}  // namespace qseg::model

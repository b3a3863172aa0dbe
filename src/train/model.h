// The DeepLabV3 MobileNetV2 model in libtorch, layer for layer the published TensorFlow graph
// (src/model/model_config.h lists the layers): float training with batch norm, the folded
// form (conv + bias) the .tflite files hold, and quantization-aware training with fake
// quantization and batch-norm folding as TensorFlow's contrib quantize rewriter does it.
//
// Usage:
//   QSEG_ASSIGN_OR_RETURN(DeepLabModel model, DeepLabModel::create(config, /*seed=*/1));
//   ForwardOptions options;                       // inference, float
//   torch::Tensor logits = model.forward(images, options);  // [N, classes, H/os', W/os']
//
// Images are [N, 3, H, W] float in [-1, 1] (2/255 * pixel - 1). Padding is TensorFlow's SAME
// (bottom/right get the extra row), so results match the .tflite files.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "qseg/status.h"
#include "train/fake_quant.h"
#include "train/model_names.h"

namespace qseg::train {

inline constexpr float kDefaultBatchNormDecay = 0.9997f;

struct ForwardOptions {
  // Dropout on. Each example's mask is drawn from (dropout_seed, first_example + its index in the
  // batch), so it does not depend on how a batch is split across replicas.
  bool training = false;
  uint64_t dropout_seed = 0;
  int64_t first_example = 0;
  bool batch_norm_training = false;  // batch statistics, moving averages updated
  // Quantization-aware training after the freeze step: moving statistics even while training,
  // and the moving averages no longer change (TensorFlow's freeze_bn_delay).
  bool freeze_batch_norm = false;
  float batch_norm_decay = kDefaultBatchNormDecay;
  QuantMode quant;
  // Data-parallel training: batch statistics are those of the whole batch, every replica's part
  // of it (synchronized batch norm: moments summed across replicas, gradients too). Set
  // quant.replicas as well so that activation ranges are reduced. Null: one process.
  const Replicas* replicas = nullptr;
  // Called with each range's scope ("aspp0/act_quant", ...) and the tensor it quantizes (after
  // quantization), for checks and calibration.
  std::function<void(const std::string&, const torch::Tensor&)> observe;
};

// One convolution with its weights, its batch norm or bias, and the range of its output.
struct ConvLayer {
  LayerSpec spec;
  torch::Tensor weight;                                     // [out, in / groups, k, k]
  torch::Tensor bias;                                       // [out], when spec.bias
  torch::Tensor gamma, beta, moving_mean, moving_variance;  // [out], when spec.batch_norm
  ActivationRange output_range;                             // "<name>/act_quant"
};

// One layer's forward: TensorFlow SAME padding, convolution, batch norm (batch or moving
// statistics, or folded into the weights under quantization), activation, output range.
torch::Tensor run_conv_layer(ConvLayer& layer, torch::Tensor x, const ForwardOptions& options);

struct NamedParameter {
  std::string name;  // the checkpoint name, e.g. "aspp0/weights"
  torch::Tensor tensor;
  bool weight_decay = false;  // conv weights, except depthwise ones (as slim's MobileNetV2)
};

class DeepLabModel {
 public:
  // Random initialization (He normal for convs, N(0, 0.01) for the logits), deterministic in seed.
  static Result<DeepLabModel> create(const DeepLabConfig& config, uint64_t seed);

  const DeepLabSpec& spec() const { return spec_; }
  const DeepLabConfig& config() const { return spec_.config; }
  std::vector<ConvLayer>& layers() { return layers_; }
  const std::vector<ConvLayer>& layers() const { return layers_; }

  // Logits at the output stride, [N, classes, h, w].
  torch::Tensor forward(const torch::Tensor& images, const ForwardOptions& options);

  std::vector<NamedParameter> parameters();
  // Every activation range by name: "<layer>/act_quant", "<block>/add_quant", "concat_quant",
  // "decoder/concat_quant".
  std::map<std::string, ActivationRange>& extra_ranges() { return extra_ranges_; }
  ActivationRange* find_range(const std::string& name);

  // Weights, batch-norm statistics and ranges as checkpoint tensors (meta["model"] = config).
  void save(CheckpointFile* checkpoint) const;
  // A model with the checkpoint's config and weights; every tensor of the layers must be there,
  // except those of the layers named in `fresh`, which keep create()'s random initialization
  // (seeded by `seed`) and no range: transfer to a new class set re-initializes the logits so.
  static Result<DeepLabModel> load(const CheckpointFile& checkpoint, const std::string& name,
                                   const std::vector<std::string>& fresh = {}, uint64_t seed = 0);

 private:
  torch::Tensor conv(ConvLayer& layer, const torch::Tensor& x, const ForwardOptions& options) {
    return run_conv_layer(layer, x, options);
  }
  // One inverted residual block; its depthwise output also goes to *depthwise_output when given
  // (the decoder's low-level feature).
  torch::Tensor block(const BlockSpec& block, torch::Tensor x, const ForwardOptions& options,
                      torch::Tensor* depthwise_output = nullptr);

  DeepLabSpec spec_;
  std::vector<ConvLayer> layers_;
  std::map<std::string, ActivationRange> extra_ranges_;
};

}  // namespace qseg::train

// The DeepLabV3 MobileNetV2 forward pass (float, batch norm, folded, fake-quantized) and its
// checkpoint tensors.
#include "train/model.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>

#include "train/replicas.h"
#include "train/support/data.h"

namespace qseg::train {
namespace {

namespace F = torch::nn::functional;

torch::Tensor to_tensor(const CheckpointTensor& t) {
  return torch::from_blob(const_cast<float*>(t.data.data()), t.shape, torch::kFloat32).clone();
}

CheckpointTensor from_tensor(const std::string& name, const torch::Tensor& tensor) {
  CheckpointTensor t;
  t.name = name;
  const torch::Tensor c = tensor.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  t.shape = c.sizes().vec();
  t.data.assign(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
  return t;
}

// Per-channel mean and biased variance of y [N, C, H, W] over the whole batch: every replica's
// part of it when there are several (summed across replicas, differentiable). The sums of y and
// y^2 are taken in double, so that how the batch is split changes them by far less than a float
// rounding: replicas then see the statistics one process would (quantization-aware training
// rounds activations on grids, where a float rounding can move a value by a whole step).
std::pair<torch::Tensor, torch::Tensor> batch_moments(const torch::Tensor& y,
                                                      const Replicas* replicas) {
  const int world = replicas ? replicas->world_size() : 1;
  const double count = static_cast<double>(y.numel() / y.size(1)) * world;
  torch::Tensor sums = torch::cat(
      {y.sum({0, 2, 3}, false, torch::kDouble), y.square().sum({0, 2, 3}, false, torch::kDouble)});
  if (world > 1) sums = replicas->differentiable_sum(sums);
  const int64_t channels = y.size(1);
  const torch::Tensor mean = sums.narrow(0, 0, channels) / count;
  const torch::Tensor variance =
      (sums.narrow(0, channels, channels) / count - mean.square()).clamp_min(0.0);
  return {mean.to(torch::kFloat), variance.to(torch::kFloat)};
}

// Moving averages towards the batch's moments (the variance made unbiased over `count` values).
void update_moving_statistics(ConvLayer& layer, const torch::Tensor& mean,
                              const torch::Tensor& variance, double count, double momentum) {
  torch::NoGradGuard no_grad;
  layer.moving_mean.mul_(1.0 - momentum).add_(mean.detach() * momentum);
  layer.moving_variance.mul_(1.0 - momentum)
      .add_(variance.detach() * (count / std::max(count - 1.0, 1.0)) * momentum);
}

// Inverted dropout with one mask per example, drawn from (seed, first_example + i).
torch::Tensor per_example_dropout(const torch::Tensor& x, double keep, uint64_t seed,
                                  int64_t first_example) {
  if (keep >= 1.0) return x;
  const int64_t n = x.size(0);
  torch::Tensor mask = torch::empty_like(x, at::MemoryFormat::Contiguous);
  for (int64_t i = 0; i < n; ++i) {
    at::Generator generator =
        at::detail::createCPUGenerator(mix_seed(seed, static_cast<uint64_t>(first_example + i)));
    mask[i].bernoulli_(keep, generator);
  }
  return x * (mask / keep);
}

torch::Tensor upsample(const torch::Tensor& x, int64_t height, int64_t width) {
  if (x.size(2) == height && x.size(3) == width) return x;
  if (x.size(2) == 1 && x.size(3) == 1) return x.expand({-1, -1, height, width});
  return F::interpolate(x, F::InterpolateFuncOptions()
                               .size(std::vector<int64_t>{height, width})
                               .mode(torch::kBilinear)
                               .align_corners(true));
}

}  // namespace

Result<DeepLabModel> DeepLabModel::create(const DeepLabConfig& config, uint64_t seed) {
  QSEG_ASSIGN_OR_RETURN(DeepLabSpec spec, deeplab_spec(config));
  DeepLabModel model;
  model.spec_ = std::move(spec);
  torch::NoGradGuard no_grad;
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  for (const LayerSpec& s : model.spec_.layers) {
    ConvLayer layer;
    layer.spec = s;
    const bool logits = &s == &model.spec_.layers[model.spec_.logits];
    // He normal over fan-out, as torchvision's MobileNetV2; the logits start small.
    const double fan_out = static_cast<double>(s.kernel) * s.kernel *
                           (s.kind == LayerKind::kDepthwise ? 1 : s.out_channels);
    const double stddev = logits ? 0.01 : std::sqrt(2.0 / fan_out);
    layer.weight = at::normal(0.0, stddev, weight_shape(s), generator);
    if (s.bias) layer.bias = torch::zeros({s.out_channels});
    if (s.batch_norm) {
      layer.gamma = torch::ones({s.out_channels});
      layer.beta = torch::zeros({s.out_channels});
      layer.moving_mean = torch::zeros({s.out_channels});
      layer.moving_variance = torch::ones({s.out_channels});
    }
    model.layers_.push_back(std::move(layer));
  }
  for (NamedParameter& p : model.parameters()) p.tensor.set_requires_grad(true);
  return model;
}

std::vector<NamedParameter> DeepLabModel::parameters() {
  std::vector<NamedParameter> params;
  for (ConvLayer& l : layers_) {
    params.push_back({weight_name(l.spec), l.weight, l.spec.kind == LayerKind::kConv});
    if (l.spec.bias) params.push_back({l.spec.name + "/biases", l.bias, false});
    if (l.spec.batch_norm) {
      params.push_back({l.spec.name + "/BatchNorm/gamma", l.gamma, false});
      params.push_back({l.spec.name + "/BatchNorm/beta", l.beta, false});
    }
  }
  return params;
}

ActivationRange* DeepLabModel::find_range(const std::string& name) {
  for (ConvLayer& l : layers_) {
    if (name == l.spec.name + "/act_quant") return &l.output_range;
  }
  auto it = extra_ranges_.find(name);
  return it == extra_ranges_.end() ? nullptr : &it->second;
}

torch::Tensor run_conv_layer(ConvLayer& layer, torch::Tensor x, const ForwardOptions& options) {
  const LayerSpec& s = layer.spec;
  const SamePadding ph = same_padding(static_cast<int>(x.size(2)), s.kernel, s.stride, s.dilation);
  const SamePadding pw = same_padding(static_cast<int>(x.size(3)), s.kernel, s.stride, s.dilation);
  int64_t pad_h = 0, pad_w = 0;
  if (ph.before == ph.after && pw.before == pw.after) {
    pad_h = ph.before;
    pad_w = pw.before;
  } else if (ph.before + ph.after + pw.before + pw.after > 0) {
    x = F::pad(x, F::PadFuncOptions({pw.before, pw.after, ph.before, ph.after}));
  }
  const int64_t groups = s.kind == LayerKind::kDepthwise ? s.out_channels : 1;
  // Channels-last everywhere: oneDNN's convolutions then need no reorders, and libtorch 1.13's
  // NCHW backward of dilated depthwise convolutions is two orders of magnitude slower.
  x = x.contiguous(at::MemoryFormat::ChannelsLast);
  auto run = [&](const torch::Tensor& w, const torch::Tensor& b) {
    return torch::conv2d(x, w.contiguous(at::MemoryFormat::ChannelsLast), b, {s.stride, s.stride},
                         {pad_h, pad_w}, {s.dilation, s.dilation}, groups);
  };
  const QuantMode& q = options.quant;
  auto maybe_quantize = [&](const torch::Tensor& w) {
    return q.quantize_weights ? fake_quantize_weights(w) : w;
  };
  const double momentum = 1.0 - options.batch_norm_decay;
  torch::Tensor y;
  if (!s.batch_norm) {
    y = run(q.quantize ? maybe_quantize(layer.weight) : layer.weight, layer.bias);
  } else if (!q.quantize && options.replicas && options.batch_norm_training &&
             !options.freeze_batch_norm) {
    // Synchronized batch norm: the statistics of the whole batch, across replicas (one process
    // uses libtorch's fused batch norm below; the two differ by float roundings).
    const torch::Tensor z = run(layer.weight, {});
    const auto [mean, variance] = batch_moments(z, options.replicas);
    update_moving_statistics(layer, mean, variance,
                             static_cast<double>(z.numel() / z.size(1)) *
                                 (options.replicas ? options.replicas->world_size() : 1),
                             momentum);
    const torch::Tensor scale = layer.gamma * torch::rsqrt(variance + s.batch_norm_epsilon);
    y = z * scale.reshape({1, -1, 1, 1}) + (layer.beta - mean * scale).reshape({1, -1, 1, 1});
  } else if (!q.quantize) {
    y = torch::batch_norm(
        run(layer.weight, {}), layer.gamma, layer.beta, layer.moving_mean, layer.moving_variance,
        options.batch_norm_training && !options.freeze_batch_norm, momentum, s.batch_norm_epsilon,
        /*cudnn_enabled=*/false);
  } else if (options.batch_norm_training && !options.freeze_batch_norm) {
    // TensorFlow's fold_batch_norms in training: weights folded with the moving deviation (so
    // their grid changes slowly), the output rescaled to the batch deviation, the bias from batch
    // statistics. Without quantization this equals batch norm with batch statistics.
    const torch::Tensor float_output = run(layer.weight, {});
    const auto [mean, variance] = batch_moments(float_output, options.replicas);
    const int world = options.replicas ? options.replicas->world_size() : 1;
    update_moving_statistics(
        layer, mean, variance,
        static_cast<double>(float_output.numel() / float_output.size(1)) * world, momentum);
    const torch::Tensor sigma_batch = torch::sqrt(variance + s.batch_norm_epsilon);
    const torch::Tensor sigma_moving = torch::sqrt(layer.moving_variance + s.batch_norm_epsilon);
    const torch::Tensor folded = layer.weight * (layer.gamma / sigma_moving).reshape({-1, 1, 1, 1});
    const torch::Tensor correction = (sigma_moving / sigma_batch).reshape({1, -1, 1, 1});
    const torch::Tensor bias =
        (layer.beta - mean * layer.gamma / sigma_batch).reshape({1, -1, 1, 1});
    y = run(maybe_quantize(folded), {}) * correction + bias;
  } else {
    // Moving statistics: the inference-time folding (and TensorFlow's after freeze_bn_delay).
    const FoldedWeights folded =
        fold_batch_norm(layer.weight, layer.gamma, layer.beta, layer.moving_mean,
                        layer.moving_variance, s.batch_norm_epsilon);
    y = run(maybe_quantize(folded.weight), folded.bias);
  }
  y = activate_and_quantize(y, s.activation, layer.output_range, q);
  if (options.observe) options.observe(s.name + "/act_quant", y);
  return y;
}

torch::Tensor DeepLabModel::block(const BlockSpec& b, torch::Tensor x,
                                  const ForwardOptions& options, torch::Tensor* depthwise_output) {
  torch::Tensor y = x;
  if (b.expand >= 0) y = conv(layers_[b.expand], y, options);
  y = conv(layers_[b.depthwise], y, options);
  if (depthwise_output) *depthwise_output = y;
  y = conv(layers_[b.project], y, options);
  if (!b.residual) return y;
  y = quantize_activation(x + y, extra_ranges_[b.name + "/add_quant"], options.quant);
  if (options.observe) options.observe(b.name + "/add_quant", y);
  return y;
}

torch::Tensor DeepLabModel::forward(const torch::Tensor& images, const ForwardOptions& options) {
  const QuantMode& q = options.quant;
  torch::Tensor x = conv(layers_[spec_.stem], images, options);
  torch::Tensor low_level;
  const ActivationRange* features_range = nullptr;
  for (size_t i = 0; i < spec_.blocks.size(); ++i) {
    const BlockSpec& b = spec_.blocks[i];
    // The decoder reads one block's depthwise output (TF DeepLab's layer_N/depthwise_output).
    x = block(b, x, options, static_cast<int>(i) == spec_.decoder_block ? &low_level : nullptr);
    features_range =
        b.residual ? &extra_ranges_[b.name + "/add_quant"] : &layers_[b.project].output_range;
  }

  const int64_t h = x.size(2), w = x.size(3);
  std::vector<torch::Tensor> branches;
  if (spec_.image_pooling >= 0) {
    torch::Tensor pooled = x.mean({2, 3}, /*keepdim=*/true);
    // TFLite's uint8 average pool keeps its input's grid: round the mean onto it.
    if (q.quantize && features_range->initialized)
      pooled = fake_quantize(pooled, features_range->grid());
    branches.push_back(upsample(conv(layers_[spec_.image_pooling], pooled, options), h, w));
  }
  branches.push_back(conv(layers_[spec_.aspp0], x, options));
  for (const SeparableSpec& s : spec_.aspp) {
    branches.push_back(conv(layers_[s.pointwise], conv(layers_[s.depthwise], x, options), options));
  }
  // A concatenation is rounded on its own range, which its inputs then share: what
  // --change-concat-input-ranges converts (by default, QUANTIZE ops move the inputs onto it).
  auto concat = [&](const std::vector<torch::Tensor>& parts, const std::string& scope) {
    torch::Tensor c = quantize_activation(torch::cat(parts, 1), extra_ranges_[scope], q);
    if (options.observe) options.observe(scope, c);
    return c;
  };
  torch::Tensor y = branches.size() == 1 ? branches[0] : concat(branches, "concat_quant");
  y = conv(layers_[spec_.concat_projection], y, options);
  if (options.training) {
    y = per_example_dropout(y, spec_.config.dropout_keep_prob, options.dropout_seed,
                            options.first_example);
  }
  if (spec_.decoder_projection >= 0) {
    torch::Tensor projected = conv(layers_[spec_.decoder_projection], low_level, options);
    y = upsample(y, projected.size(2), projected.size(3));
    y = concat({y, projected}, "decoder/concat_quant");
    for (const SeparableSpec& s : spec_.decoder) {
      y = conv(layers_[s.pointwise], conv(layers_[s.depthwise], y, options), options);
    }
  }
  // NCHW-contiguous logits: what follows (upsampling, softmax over 21 channels) is faster so.
  return conv(layers_[spec_.logits], y, options).contiguous();
}

void DeepLabModel::save(CheckpointFile* checkpoint) const {
  checkpoint->meta["model"] = config_to_json(spec_.config);
  for (const ConvLayer& l : layers_) {
    checkpoint->tensors.push_back(from_tensor(weight_name(l.spec), l.weight));
    if (l.spec.bias) checkpoint->tensors.push_back(from_tensor(l.spec.name + "/biases", l.bias));
    if (l.spec.batch_norm) {
      checkpoint->tensors.push_back(from_tensor(l.spec.name + "/BatchNorm/gamma", l.gamma));
      checkpoint->tensors.push_back(from_tensor(l.spec.name + "/BatchNorm/beta", l.beta));
      checkpoint->tensors.push_back(
          from_tensor(l.spec.name + "/BatchNorm/moving_mean", l.moving_mean));
      checkpoint->tensors.push_back(
          from_tensor(l.spec.name + "/BatchNorm/moving_variance", l.moving_variance));
    }
  }
  auto save_range = [&](const std::string& scope, const ActivationRange& r) {
    if (!r.initialized) return;
    checkpoint->tensors.push_back({range_name(scope), {2}, {r.min, r.max}});
  };
  for (const ConvLayer& l : layers_) save_range(l.spec.name + "/act_quant", l.output_range);
  for (const auto& [scope, r] : extra_ranges_) save_range(scope, r);
}

Result<DeepLabModel> DeepLabModel::load(const CheckpointFile& checkpoint, const std::string& name,
                                        const std::vector<std::string>& fresh, uint64_t seed) {
  if (!checkpoint.meta.contains("model"))
    return Status::error(name + ": checkpoint has no model config");
  auto config = config_from_json(checkpoint.meta["model"]);
  if (!config.is_ok()) return config.status().with_context(name);
  QSEG_ASSIGN_OR_RETURN(DeepLabModel model, create(config.value(), seed));
  auto is_fresh = [&](const std::string& scope) {
    return std::find(fresh.begin(), fresh.end(), scope) != fresh.end();
  };
  for (const std::string& scope : fresh) {
    if (model.spec_.index_of(scope) < 0)
      return Status::error(name + ": the model has no layer " + scope + " to re-initialize");
  }
  torch::NoGradGuard no_grad;
  auto take = [&](const std::string& tensor_name, torch::Tensor& into) -> Status {
    const CheckpointTensor* t = checkpoint.find(tensor_name);
    if (!t) return Status::error(name + ": checkpoint has no tensor " + tensor_name);
    if (t->shape != into.sizes().vec()) {
      return Status::error(name + ": tensor " + tensor_name +
                           " has the wrong shape for the model config");
    }
    into.copy_(to_tensor(*t));
    return Status::ok();
  };
  for (ConvLayer& l : model.layers_) {
    if (is_fresh(l.spec.name)) continue;
    QSEG_RETURN_IF_ERROR(take(weight_name(l.spec), l.weight));
    if (l.spec.bias) QSEG_RETURN_IF_ERROR(take(l.spec.name + "/biases", l.bias));
    if (l.spec.batch_norm) {
      QSEG_RETURN_IF_ERROR(take(l.spec.name + "/BatchNorm/gamma", l.gamma));
      QSEG_RETURN_IF_ERROR(take(l.spec.name + "/BatchNorm/beta", l.beta));
      QSEG_RETURN_IF_ERROR(take(l.spec.name + "/BatchNorm/moving_mean", l.moving_mean));
      QSEG_RETURN_IF_ERROR(take(l.spec.name + "/BatchNorm/moving_variance", l.moving_variance));
    }
  }
  const std::string suffix = "/range";
  for (const CheckpointTensor& t : checkpoint.tensors) {
    if (t.name.size() <= suffix.size() ||
        t.name.compare(t.name.size() - suffix.size(), suffix.size(), suffix) != 0) {
      continue;
    }
    if (t.data.size() != 2 || !(t.data[0] <= t.data[1])) {
      return Status::error(name + ": bad activation range " + t.name);
    }
    const std::string scope = t.name.substr(0, t.name.size() - suffix.size());
    const std::string act_suffix = "/act_quant";
    if (scope.size() > act_suffix.size() &&
        is_fresh(scope.substr(0, scope.size() - act_suffix.size()))) {
      continue;  // a new layer's output has a new range
    }
    ActivationRange* range = model.find_range(scope);
    if (!range) {
      // Add and concat ranges are created on first use; only the model's own may be restored.
      bool known = scope == "concat_quant" || scope == "decoder/concat_quant";
      for (const BlockSpec& b : model.spec_.blocks)
        known = known || (b.residual && scope == b.name + "/add_quant");
      if (!known)
        return Status::error(name + ": activation range " + t.name +
                             " belongs to no tensor of the model");
      range = &model.extra_ranges_[scope];
    }
    *range = {t.data[0], t.data[1], true};
  }
  return model;
}

}  // namespace qseg::train

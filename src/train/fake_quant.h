// Fake quantization for quantization-aware training, with the semantics of TensorFlow's
// contrib quantize rewriter: weights per tensor over their current min/max (8 bits, narrow
// range), activations per tensor over a range tracked by an exponential moving average, both
// rounded on the grid that src/quant/quant.h defines (fake_quant_grid) and passed straight
// through by the gradient inside the range, zero outside. Also batch-norm folding (the
// arithmetic the rewriter uses and the converter relies on). libtorch only.
#pragma once

#include <torch/torch.h>

#include "quant/quant.h"

namespace qseg::train {

inline constexpr int kQuantBits = 8;
inline constexpr float kDefaultEmaDecay = 0.999f;

// x rounded on the grid: TensorFlow's FakeQuantWithMinMaxVars forward (see
// quant::fake_quantize_value); backward passes the gradient where nudged_min <= x <= nudged_max
// and zero elsewhere. One pass (a fused loop), in x's memory layout (e.g. channels-last).
torch::Tensor fake_quantize(const torch::Tensor& x, const quant::FakeQuantGrid& grid);

// The grid of a weight tensor: its current [min, max] (widened to contain 0), narrow range.
quant::FakeQuantGrid weight_grid(const torch::Tensor& weights);
inline torch::Tensor fake_quantize_weights(const torch::Tensor& weights) {
  return fake_quantize(weights, weight_grid(weights));
}

class Replicas;  // train/replicas.h

// How one forward pass treats activation ranges and fake quantization.
struct QuantMode {
  bool quantize = false;  // round weights and activations on their grids
  // With quantize: also round the weights (off only to run weights that are already on a grid
  // as they are, e.g. those of an imported uint8 model when checking the import).
  bool quantize_weights = true;
  bool update_ranges = false;  // training: move the ranges towards this batch's min/max
  float ema_decay = kDefaultEmaDecay;
  // Data-parallel training: each range moves towards the min/max of the whole batch, over every
  // replica's part of it, so all replicas keep identical ranges (null: one process).
  const Replicas* replicas = nullptr;
};

// The range of one activation tensor ("aspp0/act_quant"). Until the first update it is
// uninitialized, and the first batch sets it (TensorFlow starts from fixed [-6, 6] or [0, 6]
// instead; starting from data avoids thousands of steps of clipping when fine-tuning a float
// model whose activations span [-50, 50]). Afterwards min = decay * min + (1 - decay) *
// min(batch_min, 0) and likewise max with max(batch_max, 0), as assign_moving_average.
struct ActivationRange {
  float min = 0.0f;
  float max = 0.0f;
  bool initialized = false;

  void update(const torch::Tensor& x, float decay);
  void update_with(float x_min, float x_max, float decay);  // a batch's min and max
  quant::FakeQuantGrid grid() const;
};

// Moves the range towards x's min and max (over every replica's x when mode.replicas is set).
void update_range(ActivationRange& range, const torch::Tensor& x, const QuantMode& mode);

// Updates the range (if mode.update_ranges) and returns x fake-quantized on it (if
// mode.quantize and the range is initialized), else x.
torch::Tensor quantize_activation(const torch::Tensor& x, ActivationRange& range,
                                  const QuantMode& mode);

// activation(x) (kNone, kRelu, kRelu6) through quantize_activation, fused into one pass: the
// range is updated from the activation's min/max, and the activation's clamp and the grid's are
// one clamp (so the gradient passes where both pass it).
torch::Tensor activate_and_quantize(const torch::Tensor& x, Activation activation,
                                    ActivationRange& range, const QuantMode& mode);

// Batch norm folded into the preceding convolution, for inference and the converter:
// weights * gamma / sqrt(variance + epsilon) per output channel and
// bias = beta - mean * gamma / sqrt(variance + epsilon). Weights are [out, in / groups, kh, kw].
struct FoldedWeights {
  torch::Tensor weight;
  torch::Tensor bias;
};
FoldedWeights fold_batch_norm(const torch::Tensor& weight, const torch::Tensor& gamma,
                              const torch::Tensor& beta, const torch::Tensor& mean,
                              const torch::Tensor& variance, double epsilon);

}  // namespace qseg::train

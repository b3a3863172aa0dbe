// Fake quantization (TensorFlow's FakeQuantWithMinMaxVars semantics) and batch-norm folding.
#include "train/fake_quant.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <mutex>

#include "train/replicas.h"

namespace qseg::train {
namespace {

// One pass over x (any dense layout; the output keeps it): y = the grid value of
// clamp(x, lo, hi) (quant::fake_quantize_clamped), and a byte mask of lo <= x <= hi for the
// backward pass. lo/hi are the nudged range, narrowed by a fused activation (ReLU: lo >= 0, ReLU6:
// also hi <= 6).
std::pair<torch::Tensor, torch::Tensor> fake_quantize_forward(const torch::Tensor& input, float lo,
                                                              float hi, float grid_min, float step,
                                                              bool keep_mask) {
  const torch::Tensor x = input.is_non_overlapping_and_dense() ? input : input.contiguous();
  torch::Tensor y = torch::empty_like(x);
  torch::Tensor mask = keep_mask ? torch::empty_like(x, torch::kUInt8) : torch::Tensor();
  const float* in = x.data_ptr<float>();
  float* out = y.data_ptr<float>();
  uint8_t* m = keep_mask ? mask.data_ptr<uint8_t>() : nullptr;
  const float inverse_step = 1.0f / step;
  at::parallel_for(0, x.numel(), 32768, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const float v = in[i];
      out[i] = quant::fake_quantize_clamped(v, lo, hi, grid_min, step, inverse_step);
      if (m) m[i] = static_cast<uint8_t>(v >= lo && v <= hi);
    }
  });
  return {y, mask};
}

// min and max of a float tensor in one parallel pass (several times faster than aminmax here),
// accumulated in 16 independent lanes so the compiler vectorizes them.
std::pair<float, float> extremes(const torch::Tensor& input) {
  const torch::Tensor x = input.is_non_overlapping_and_dense() ? input : input.contiguous();
  const float* data = x.data_ptr<float>();
  const int64_t n = x.numel();
  if (n == 0) return {0.0f, 0.0f};
  std::mutex mutex;
  float lo = data[0], hi = data[0];
  at::parallel_for(0, n, 65536, [&](int64_t begin, int64_t end) {
    constexpr int kLanes = 16;
    float lane_lo[kLanes], lane_hi[kLanes];
    for (int l = 0; l < kLanes; ++l) lane_lo[l] = lane_hi[l] = data[begin];
    int64_t i = begin;
    for (; i + kLanes <= end; i += kLanes) {
      for (int l = 0; l < kLanes; ++l) {
        const float v = data[i + l];
        lane_lo[l] = v < lane_lo[l] ? v : lane_lo[l];
        lane_hi[l] = v > lane_hi[l] ? v : lane_hi[l];
      }
    }
    float chunk_lo = lane_lo[0], chunk_hi = lane_hi[0];
    for (int l = 1; l < kLanes; ++l) {
      chunk_lo = std::min(chunk_lo, lane_lo[l]);
      chunk_hi = std::max(chunk_hi, lane_hi[l]);
    }
    for (; i < end; ++i) {
      chunk_lo = std::min(chunk_lo, data[i]);
      chunk_hi = std::max(chunk_hi, data[i]);
    }
    std::lock_guard<std::mutex> lock(mutex);
    lo = std::min(lo, chunk_lo);
    hi = std::max(hi, chunk_hi);
  });
  return {lo, hi};
}

// A batch's min and max over every replica's part of it (the maximum of -min and of max).
std::pair<float, float> reduced(std::pair<float, float> local, const Replicas* replicas) {
  if (!replicas || replicas->world_size() == 1) return local;
  torch::Tensor both = torch::tensor({-local.first, local.second}, torch::kFloat32);
  replicas->max(both);
  return {-both[0].item<float>(), both[1].item<float>()};
}

class FakeQuantizeFunction : public torch::autograd::Function<FakeQuantizeFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               double lo, double hi, double grid_min, double step) {
    auto [y, mask] = fake_quantize_forward(x, static_cast<float>(lo), static_cast<float>(hi),
                                           static_cast<float>(grid_min), static_cast<float>(step),
                                           x.requires_grad());
    if (mask.defined()) ctx->save_for_backward({mask});
    return y;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const torch::Tensor mask = ctx->get_saved_variables()[0];
    // One pass in whatever layouts the two have (no copy to a common one).
    const torch::Tensor result = grad_outputs[0] * mask;
    return {result, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor fake_quantize(const torch::Tensor& x, const quant::FakeQuantGrid& grid) {
  return FakeQuantizeFunction::apply(x, grid.nudged_min, grid.nudged_max, grid.nudged_min,
                                     grid.scale);
}

torch::Tensor activate_and_quantize(const torch::Tensor& x, Activation activation,
                                    ActivationRange& range, const QuantMode& mode) {
  const quant::FloatRange bounds = quant::activation_range_float(activation);
  if (!mode.quantize) {
    torch::Tensor y = activation == Activation::kNone ? x : x.clamp(bounds.min, bounds.max);
    if (mode.update_ranges) update_range(range, y, mode);
    return y;
  }
  if (mode.update_ranges) {
    // The activation's min/max are those of x clamped: no need to materialize it first.
    const auto [x_min, x_max] = reduced(extremes(x), mode.replicas);
    range.update_with(std::clamp(x_min, bounds.min, bounds.max),
                      std::clamp(x_max, bounds.min, bounds.max), mode.ema_decay);
  }
  if (!range.initialized)
    return activation == Activation::kNone ? x : x.clamp(bounds.min, bounds.max);
  const quant::FakeQuantGrid grid = range.grid();
  const quant::FloatRange clamp = quant::fake_quant_bounds(grid, bounds);
  return FakeQuantizeFunction::apply(x, clamp.min, clamp.max, grid.nudged_min, grid.scale);
}

quant::FakeQuantGrid weight_grid(const torch::Tensor& weights) {
  const auto [w_min, w_max] = extremes(weights.detach());
  return quant::fake_quant_grid(w_min, w_max, kQuantBits, /*narrow_range=*/true);
}

void ActivationRange::update(const torch::Tensor& x, float decay) {
  const auto [x_min, x_max] = extremes(x.detach());
  update_with(x_min, x_max, decay);
}

void ActivationRange::update_with(float x_min, float x_max, float decay) {
  const quant::FloatRange batch = quant::range_with_zero(x_min, x_max);
  const float batch_min = batch.min, batch_max = batch.max;
  if (!initialized) {
    min = batch_min;
    max = batch_max;
    initialized = true;
    return;
  }
  // assign_moving_average(var, value, decay): var -= (var - value) * (1 - decay).
  min -= (min - batch_min) * (1.0f - decay);
  max -= (max - batch_max) * (1.0f - decay);
}

quant::FakeQuantGrid ActivationRange::grid() const {
  return quant::fake_quant_grid(min, max, kQuantBits, /*narrow_range=*/false);
}

void update_range(ActivationRange& range, const torch::Tensor& x, const QuantMode& mode) {
  const auto [x_min, x_max] = reduced(extremes(x.detach()), mode.replicas);
  range.update_with(x_min, x_max, mode.ema_decay);
}

torch::Tensor quantize_activation(const torch::Tensor& x, ActivationRange& range,
                                  const QuantMode& mode) {
  if (mode.update_ranges) update_range(range, x, mode);
  if (!mode.quantize || !range.initialized) return x;
  return fake_quantize(x, range.grid());
}

FoldedWeights fold_batch_norm(const torch::Tensor& weight, const torch::Tensor& gamma,
                              const torch::Tensor& beta, const torch::Tensor& mean,
                              const torch::Tensor& variance, double epsilon) {
  const torch::Tensor multiplier = gamma * torch::rsqrt(variance + epsilon);
  FoldedWeights folded;
  folded.weight = weight * multiplier.reshape({-1, 1, 1, 1});
  folded.bias = beta - mean * multiplier;
  return folded;
}

}  // namespace qseg::train

// Fake quantization and batch-norm folding: the grid (quant::fake_quant_grid), straight-through
// gradients, the moving-average ranges, and folding equal to conv + batch norm.
#include "train/fake_quant.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "train/model.h"

namespace qseg::train {
namespace {

TEST(FakeQuantTest, ForwardIsRoundAndClampOnTheGrid) {
  torch::manual_seed(1);
  const quant::FakeQuantGrid grid = quant::fake_quant_grid(-1.3f, 2.9f, 8, false);
  EXPECT_EQ(grid.qmin, 0);
  EXPECT_EQ(grid.qmax, 255);
  // 0 is exactly representable and the nudged range spans 255 steps.
  EXPECT_FLOAT_EQ(grid.nudged_min, -grid.zero_point * grid.scale);
  EXPECT_NEAR(grid.nudged_max - grid.nudged_min, 255 * grid.scale, 1e-5);
  const torch::Tensor x = torch::rand({10000}) * 6.0 - 2.5;  // beyond both ends
  const torch::Tensor y = fake_quantize(x, grid);
  const float* xs = x.data_ptr<float>();
  const float* ys = y.data_ptr<float>();
  int mismatches = 0;
  for (int i = 0; i < x.numel(); ++i) {
    EXPECT_EQ(ys[i], quant::fake_quantize_value(xs[i], grid));
    // The same value through the runtime's quantize and dequantize.
    const int32_t q =
        quant::quantize_value(xs[i], grid.scale, grid.zero_point, grid.qmin, grid.qmax);
    if (std::abs(ys[i] - quant::dequantize_value(q, grid.scale, grid.zero_point)) > 1e-5f)
      ++mismatches;
    // On the grid: an integer number of steps from the nudged minimum, inside the range.
    const float steps = (ys[i] - grid.nudged_min) / grid.scale;
    EXPECT_NEAR(steps, std::round(steps), 1e-3);
    EXPECT_GE(ys[i], grid.nudged_min);
    EXPECT_LE(ys[i], grid.nudged_max + 1e-6f);
  }
  EXPECT_EQ(mismatches, 0);
  // Ties round away from the nudged minimum (floor(v + 0.5)).

  const quant::FakeQuantGrid unit = quant::fake_quant_grid(-128.0f, 127.0f, 8, false);  // step 1
  EXPECT_EQ(unit.zero_point, 128);
  EXPECT_EQ(quant::fake_quantize_value(2.5f, unit), 3.0f);
  EXPECT_EQ(quant::fake_quantize_value(-2.5f, unit), -2.0f);
}

TEST(FakeQuantTest, GradientIsOneInsideAndZeroOutside) {
  const quant::FakeQuantGrid grid = quant::fake_quant_grid(-1.0f, 1.0f, 8, false);
  const torch::Tensor x = torch::tensor({-3.0f, -0.5f, 0.0f, 0.7f, 2.0f}).set_requires_grad(true);
  fake_quantize(x, grid).sum().backward();
  const torch::Tensor expected = torch::tensor({0.0f, 1.0f, 1.0f, 1.0f, 0.0f});
  EXPECT_TRUE(torch::equal(x.grad(), expected)) << x.grad();
  // At the nudged ends the gradient still passes.
  const torch::Tensor ends =
      torch::tensor({grid.nudged_min, grid.nudged_max}).set_requires_grad(true);
  fake_quantize(ends, grid).sum().backward();
  EXPECT_TRUE(torch::equal(ends.grad(), torch::ones({2})));
}

TEST(FakeQuantTest, NarrowRangeWeightsUseCodes1To255) {
  const torch::Tensor w = torch::tensor({-0.8f, -0.1f, 0.0f, 0.3f, 1.2f});
  const quant::FakeQuantGrid grid = weight_grid(w);
  EXPECT_EQ(grid.qmin, 1);
  EXPECT_EQ(grid.qmax, 255);
  EXPECT_NEAR(grid.scale, 2.0f / 254.0f, 1e-7);
  const torch::Tensor q = fake_quantize_weights(w);
  const torch::Tensor codes = torch::round(q / grid.scale) + grid.zero_point;
  EXPECT_GE(codes.min().item<float>(), 1.0f);
  EXPECT_LE(codes.max().item<float>(), 255.0f);
  // The wide grid of the same range has a different step.
  EXPECT_NEAR(quant::fake_quant_grid(-0.8f, 1.2f, 8, false).scale, 2.0f / 255.0f, 1e-7);
}

TEST(FakeQuantTest, RangeIsAnExponentialMovingAverage) {
  ActivationRange range;
  range.update(torch::tensor({0.5f, 4.0f}), 0.9f);  // the first batch sets it, widened to 0
  EXPECT_TRUE(range.initialized);
  EXPECT_FLOAT_EQ(range.min, 0.0f);
  EXPECT_FLOAT_EQ(range.max, 4.0f);
  range.update(torch::tensor({-2.0f, 2.0f}), 0.9f);
  EXPECT_FLOAT_EQ(range.min, -0.2f);
  EXPECT_FLOAT_EQ(range.max, 3.8f);
  // quantize_activation updates only when asked, and quantizes only when asked.
  QuantMode mode;
  mode.update_ranges = false;
  mode.quantize = true;
  const torch::Tensor x = torch::tensor({10.0f, 0.01f});
  const torch::Tensor y = quantize_activation(x, range, mode);
  EXPECT_FLOAT_EQ(range.max, 3.8f);
  EXPECT_NEAR(y[0].item<float>(), range.grid().nudged_max, 1e-6);
  mode.quantize = false;
  mode.update_ranges = true;
  mode.ema_decay = 0.5f;
  EXPECT_TRUE(torch::equal(quantize_activation(x, range, mode), x));
  EXPECT_FLOAT_EQ(range.max, 0.5f * 3.8f + 0.5f * 10.0f);
}

TEST(FakeQuantTest, FusedActivationEqualsActivationThenQuantization) {
  torch::manual_seed(5);
  for (Activation activation : {Activation::kNone, Activation::kRelu, Activation::kRelu6}) {
    // Channels-last input: the fused pass keeps the layout.
    const torch::Tensor x =
        (torch::randn({2, 3, 5, 7}) * 4).contiguous(at::MemoryFormat::ChannelsLast);
    const torch::Tensor a = x.clone().set_requires_grad(true),
                        b = x.clone().set_requires_grad(true);
    ActivationRange fused, reference;
    QuantMode mode;
    mode.quantize = true;
    mode.update_ranges = true;
    const torch::Tensor y = activate_and_quantize(a, activation, fused, mode);
    const quant::FloatRange bounds = quant::activation_range_float(activation);
    const torch::Tensor activated =
        activation == Activation::kNone ? b : b.clamp(bounds.min, bounds.max);
    const torch::Tensor expected = quantize_activation(activated, reference, mode);
    EXPECT_EQ(fused.min, reference.min);
    EXPECT_EQ(fused.max, reference.max);
    EXPECT_TRUE(torch::allclose(y, expected, 0, 1e-6));
    EXPECT_TRUE(y.is_contiguous(at::MemoryFormat::ChannelsLast));
    const torch::Tensor upstream = torch::randn(x.sizes());
    (y * upstream).sum().backward();
    (expected * upstream).sum().backward();
    EXPECT_TRUE(torch::equal(a.grad(), b.grad())) << "activation " << static_cast<int>(activation);
  }
}

ConvLayer batch_norm_layer(int in, int out, LayerKind kind) {
  ConvLayer l;
  l.spec.name = "test";
  l.spec.kind = kind;
  l.spec.in_channels = in;
  l.spec.out_channels = out;
  l.spec.kernel = 3;
  l.spec.stride = 2;
  l.spec.batch_norm = true;
  l.spec.batch_norm_epsilon = 1e-3f;
  l.weight = torch::randn({out, kind == LayerKind::kDepthwise ? 1 : in, 3, 3});
  l.gamma = torch::rand({out}) + 0.5;
  l.beta = torch::randn({out});
  l.moving_mean = torch::randn({out});
  l.moving_variance = torch::rand({out}) + 0.1;
  return l;
}

TEST(BatchNormFoldingTest, FoldedConvEqualsConvThenBatchNorm) {
  torch::manual_seed(2);
  for (LayerKind kind : {LayerKind::kConv, LayerKind::kDepthwise}) {
    const int channels = 6;
    ConvLayer l = batch_norm_layer(channels, channels, kind);
    const int64_t groups = kind == LayerKind::kDepthwise ? channels : 1;
    const torch::Tensor x = torch::randn({2, channels, 9, 9});
    const torch::Tensor reference =
        torch::batch_norm(torch::conv2d(x, l.weight, {}, 2, 1, 1, groups), l.gamma, l.beta,
                          l.moving_mean, l.moving_variance, false, 0.0, 1e-3, false);
    const FoldedWeights folded =
        fold_batch_norm(l.weight, l.gamma, l.beta, l.moving_mean, l.moving_variance, 1e-3);
    const torch::Tensor y = torch::conv2d(x, folded.weight, folded.bias, 2, 1, 1, groups);
    EXPECT_LT((y - reference).abs().max().item<float>(), 1e-4) << "kind " << static_cast<int>(kind);
  }
}

TEST(BatchNormFoldingTest, TrainingFoldingWithCorrectionEqualsBatchStatistics) {
  torch::manual_seed(3);
  ConvLayer l = batch_norm_layer(4, 5, LayerKind::kConv);
  ConvLayer reference_layer = l;
  reference_layer.moving_mean = l.moving_mean.clone();
  reference_layer.moving_variance = l.moving_variance.clone();
  const torch::Tensor x = torch::randn({3, 4, 11, 11});
  ForwardOptions float_options;
  float_options.batch_norm_training = true;
  float_options.batch_norm_decay = 0.9f;
  const torch::Tensor expected = run_conv_layer(reference_layer, x, float_options);
  // The quantization-aware path, with weights and output left unquantized: TensorFlow's
  // correction makes it batch norm with batch statistics, and the moving averages move alike.
  ForwardOptions qat = float_options;
  qat.quant.quantize = true;
  qat.quant.quantize_weights = false;
  const torch::Tensor y = run_conv_layer(l, x, qat);
  EXPECT_LT((y - expected).abs().max().item<float>(), 1e-4);
  EXPECT_LT((l.moving_mean - reference_layer.moving_mean).abs().max().item<float>(), 1e-5);
  EXPECT_LT((l.moving_variance - reference_layer.moving_variance).abs().max().item<float>(), 1e-5);
  // After the freeze step: moving statistics, which no longer move.
  ForwardOptions frozen = qat;
  frozen.freeze_batch_norm = true;
  const torch::Tensor mean_before = l.moving_mean.clone();
  ForwardOptions inference;
  ConvLayer inference_layer = l;
  const torch::Tensor moving = run_conv_layer(inference_layer, x, inference);
  EXPECT_LT((run_conv_layer(l, x, frozen) - moving).abs().max().item<float>(), 1e-4);
  EXPECT_TRUE(torch::equal(l.moving_mean, mean_before));
}

TEST(BatchNormFoldingTest, QuantizedFoldedWeightsAreOnTheirGrid) {
  torch::manual_seed(4);
  ConvLayer l = batch_norm_layer(3, 4, LayerKind::kConv);
  const torch::Tensor x = torch::randn({1, 3, 8, 8});
  ForwardOptions options;
  options.quant.quantize = true;
  const torch::Tensor y = run_conv_layer(l, x, options);
  const FoldedWeights folded =
      fold_batch_norm(l.weight, l.gamma, l.beta, l.moving_mean, l.moving_variance, 1e-3);
  const torch::Tensor padded =
      torch::nn::functional::pad(x, torch::nn::functional::PadFuncOptions({0, 1, 0, 1}));
  const torch::Tensor expected =
      torch::conv2d(padded, fake_quantize_weights(folded.weight), folded.bias, 2);
  EXPECT_LT((y - expected).abs().max().item<float>(), 1e-5);
}

}  // namespace
}  // namespace qseg::train

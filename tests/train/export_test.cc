// The frozen float graph `qseg export` writes computes the libtorch model's own forward: ASPP with
// atrous rates, the DeepLabV3+ decoder at strides 4 and 8, non-square inputs (SAME padding, the
// whole-map image pooling, the decoder's resize to the low-level feature all as in the model),
// batch norm folded from moving statistics that are not the identity.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstring>

#include "test_util.h"
#include "train/model.h"
#include "train/model_names.h"

namespace qseg::train {
namespace {

// Moving statistics and batch-norm parameters off their initial values, so folding matters.
void randomize_batch_norm(DeepLabModel& model) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(3);
  for (ConvLayer& l : model.layers()) {
    if (!l.spec.batch_norm) continue;
    l.gamma.uniform_(0.5, 1.5);
    l.beta.uniform_(-0.2, 0.2);
    l.moving_mean.uniform_(-0.2, 0.2);
    l.moving_variance.uniform_(0.5, 2.0);
  }
}

// The relative L2 distance of the exported graph's logits from the model's, on one input.
double export_distance(const DeepLabConfig& config, int height, int width, const std::string& tag) {
  torch::NoGradGuard no_grad;
  auto created = DeepLabModel::create(config, 5);
  EXPECT_TRUE(created.is_ok()) << created.status().message();
  DeepLabModel& model = created.value();
  randomize_batch_norm(model);
  CheckpointFile file;
  model.save(&file);
  const auto dir = test::temp_dir("export_" + tag);
  EXPECT_TRUE(write_checkpoint_file(dir / "model.ckpt", file).is_ok());
  const test::CommandResult r = test::run_command(
      test::qseg_binary().string() + " export --checkpoint " + (dir / "model.ckpt").string() +
      " --input-shape 1," + std::to_string(height) + "," + std::to_string(width) + ",3 --out " +
      (dir / "frozen.tflite").string());
  EXPECT_EQ(r.exit_code, 0) << r.output;

  torch::manual_seed(4);
  const torch::Tensor image = torch::rand({1, height, width, 3}) * 2 - 1;  // NHWC in [-1, 1]
  std::vector<uint8_t> input(image.numel() * sizeof(float));
  std::memcpy(input.data(), image.data_ptr<float>(), input.size());
  const std::vector<uint8_t> output = test::run_model_file(dir / "frozen.tflite", input);
  const torch::Tensor expected = model.forward(image.permute({0, 3, 1, 2}).contiguous(), {})
                                     .permute({0, 2, 3, 1})
                                     .contiguous();
  const auto bytes = static_cast<size_t>(expected.numel()) * sizeof(float);
  EXPECT_EQ(output.size(), bytes);
  if (output.size() != bytes) return 1.0;
  const torch::Tensor exported =
      torch::from_blob(const_cast<uint8_t*>(output.data()), expected.sizes(), torch::kFloat32);
  const double distance = ((exported - expected).norm() / expected.norm()).item<double>();
  std::printf("%s %dx%d: exported logits %s, relative L2 from libtorch %.3g\n", tag.c_str(), height,
              width, c10::str(expected.sizes()).c_str(), distance);
  return distance;
}

DeepLabConfig small_config() {
  DeepLabConfig c;
  c.depth_multiplier = 0.25f;
  c.num_classes = 5;
  return c;
}

TEST(ExportTest, FloatGraphComputesTheModelWithDecoderAndAsppRates) {
  DeepLabConfig c = small_config();
  c.aspp_rates = {6, 12, 18};
  c.decoder_output_stride = 4;
  EXPECT_LT(export_distance(c, 97, 129, "decoder4_os16"), 1e-5);
  c.decoder_output_stride = 8;
  EXPECT_LT(export_distance(c, 70, 41, "decoder8_os16"), 1e-5);
  c.output_stride = 8;
  c.aspp_rates = {12, 24, 36};
  c.decoder_output_stride = 4;
  EXPECT_LT(export_distance(c, 65, 50, "decoder4_os8"), 1e-5);
}

TEST(ExportTest, FloatGraphComputesThePlainModelAtANonSquareInput) {
  EXPECT_LT(export_distance(small_config(), 81, 49, "plain_os16"), 1e-5);
}

}  // namespace
}  // namespace qseg::train

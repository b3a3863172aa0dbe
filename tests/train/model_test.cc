// The libtorch DeepLab: shapes at every output stride, head options, checkpoint round trips and
// checkpoint file errors.
#include "train/model.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>

#include "test_util.h"
#include "train/model_names.h"

namespace qseg::train {
namespace {

DeepLabConfig tiny_config() {
  DeepLabConfig c;
  c.depth_multiplier = 0.25f;
  c.num_classes = 4;
  c.input_height = c.input_width = 65;
  return c;
}

TEST(DeepLabModelTest, LogitsAreAtTheOutputStride) {
  torch::NoGradGuard no_grad;
  for (int stride : {8, 16, 32}) {
    DeepLabConfig c = tiny_config();
    c.output_stride = stride;
    auto model = DeepLabModel::create(c, 1);
    ASSERT_TRUE(model.is_ok()) << model.status().message();
    const torch::Tensor logits = model.value().forward(torch::zeros({2, 3, 65, 65}), {});
    const int64_t expected = (65 - 1) / stride + 1;
    EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{2, 4, expected, expected}))
        << "stride " << stride;
  }
}

TEST(DeepLabModelTest, EvenInputSizesAndHeadOptionsRun) {
  torch::NoGradGuard no_grad;
  DeepLabConfig c = tiny_config();
  c.aspp_rates = {2, 4};
  c.decoder_output_stride = 4;
  auto model = DeepLabModel::create(c, 1);
  ASSERT_TRUE(model.is_ok());
  ForwardOptions options;
  options.training = true;
  options.batch_norm_training = true;
  options.quant.quantize = true;
  options.quant.update_ranges = true;
  const torch::Tensor logits = model.value().forward(torch::randn({2, 3, 64, 64}), options);
  EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{2, 4, 16, 16}));
  EXPECT_NE(model.value().find_range("decoder/concat_quant"), nullptr);
  EXPECT_TRUE(model.value().find_range("concat_quant")->initialized);
}

TEST(DeepLabModelTest, CheckpointRoundTripsExactly) {
  torch::NoGradGuard no_grad;
  auto created = DeepLabModel::create(tiny_config(), 7);
  ASSERT_TRUE(created.is_ok());
  DeepLabModel& model = created.value();
  ForwardOptions options;
  options.batch_norm_training = true;
  options.batch_norm_decay = 0.5f;
  options.quant.update_ranges = true;
  const torch::Tensor input = torch::randn({2, 3, 65, 65});
  model.forward(input, options);  // moves statistics and ranges off their initial values
  CheckpointFile file;
  model.save(&file);
  const auto path = test::temp_dir("model_checkpoint") / "model.ckpt";
  ASSERT_TRUE(write_checkpoint_file(path, file).is_ok());
  auto read = read_checkpoint_file(path);
  ASSERT_TRUE(read.is_ok()) << read.status().message();
  auto loaded = DeepLabModel::load(read.value(), path.string());
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().message();
  ForwardOptions eval;
  eval.quant.quantize = true;
  EXPECT_TRUE(torch::equal(model.forward(input, eval), loaded.value().forward(input, eval)));
  EXPECT_EQ(loaded.value().find_range("MobilenetV2/expanded_conv_2/add_quant")->max,
            model.find_range("MobilenetV2/expanded_conv_2/add_quant")->max);
}

// Found by reading fuzzed checkpoints: a header whose meta is not an object, or whose
// "quantized" is not a boolean, made nlohmann::json throw where callers expected a Status.
TEST(CheckpointFileTest, MetaOfTheWrongTypeIsAnErrorNotAnException) {
  CheckpointFile file;
  file.meta = nlohmann::json::array({1, 2});
  auto bytes = encode_checkpoint(file, "array.ckpt");
  ASSERT_TRUE(bytes.is_ok());
  auto decoded = decode_checkpoint(bytes.value(), "array.ckpt");
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_EQ(decoded.status().message(), "array.ckpt: checkpoint meta is not an object");
  file.meta = {{"quantized", "yes"}};
  auto odd = decode_checkpoint(encode_checkpoint(file, "odd.ckpt").value(), "odd.ckpt");
  ASSERT_TRUE(odd.is_ok());
  EXPECT_FALSE(odd.value().quantized());
  file.meta = {{"quantized", true}};
  EXPECT_TRUE(
      decode_checkpoint(encode_checkpoint(file, "q.ckpt").value(), "q.ckpt").value().quantized());
}

TEST(CheckpointFileTest, ErrorsNameTheFile) {
  const auto dir = test::temp_dir("checkpoint_errors");
  EXPECT_NE(read_checkpoint_file(dir / "missing.ckpt").status().message().find("missing.ckpt"),
            std::string::npos);
  test::write_file(dir / "junk.ckpt", {'n', 'o', 'p', 'e'});
  EXPECT_NE(
      read_checkpoint_file(dir / "junk.ckpt").status().message().find("not a qseg checkpoint"),
      std::string::npos);
  CheckpointFile file;
  file.meta["x"] = 1;
  file.tensors.push_back({"a", {2}, {1.0f, 2.0f}});
  ASSERT_TRUE(write_checkpoint_file(dir / "good.ckpt", file).is_ok());
  std::vector<uint8_t> bytes = test::read_file(dir / "good.ckpt");
  bytes[bytes.size() - 20] ^= 1;  // flip one data bit
  test::write_file(dir / "flipped.ckpt", bytes);
  EXPECT_NE(read_checkpoint_file(dir / "flipped.ckpt").status().message().find("corrupt"),
            std::string::npos);
  bytes.resize(bytes.size() / 2);
  test::write_file(dir / "truncated.ckpt", bytes);
  EXPECT_FALSE(read_checkpoint_file(dir / "truncated.ckpt").is_ok());
  auto good = read_checkpoint_file(dir / "good.ckpt");
  ASSERT_TRUE(good.is_ok());
  EXPECT_EQ(good.value().find("a")->data, (std::vector<float>{1.0f, 2.0f}));
  EXPECT_FALSE(std::filesystem::exists(dir / "good.ckpt.tmp"));
  // A checkpoint without a model, or with tensors of the wrong shape, does not load.
  EXPECT_FALSE(DeepLabModel::load(good.value(), "good.ckpt").is_ok());
}

}  // namespace
}  // namespace qseg::train

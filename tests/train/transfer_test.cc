// Transfer to a new class set (train --init CKPT --num-classes N): the logits layer alone starts
// anew, every other layer keeps its weights, batch-norm statistics and range; the new model then
// trains in float and quantization-aware, and its checkpoints record the class names.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "test_util.h"
#include "train/model_names.h"
#include "train/support/child_runs.h"
#include "train/support/synthetic_data.h"
#include "train/train_state.h"
#include "train/trainer.h"

namespace qseg::train {
namespace {

// The generated set's labels are 0..3.
const std::filesystem::path& data_root() {
  static const std::filesystem::path root = [] {
    auto dir = test::temp_dir(std::string("transfer_data_") +
                              ::testing::UnitTest::GetInstance()->current_test_info()->name());
    test::write_synthetic_segmentation_set(dir, 16, 4, 64, 7);
    return dir;
  }();
  return root;
}

TrainOptions tiny(const std::string& name) {
  TrainOptions o;
  o.from_scratch = true;
  o.scratch_config.depth_multiplier = 0.25f;
  o.scratch_config.num_classes = 4;
  o.scratch_config.output_stride = 8;
  o.scratch_config.input_height = o.scratch_config.input_width = 65;
  o.data = {{data_root(), "train.txt"}};
  o.augment.crop_size = 49;
  o.batch_size = 4;
  o.steps = 6;
  o.base_learning_rate = 0.05;
  o.quantize_delay_step = 3;  // the parent has trained weights and ranges for every tensor
  o.seed = 5;
  o.loader_threads = 1;
  o.checkpoint_every = 1000;
  o.progress = false;
  o.out_dir = test::temp_dir(name);
  return o;
}

// A parent checkpoint: 4 classes, trained quantization-aware for a few steps.
const std::filesystem::path& parent() {
  static const std::filesystem::path path = [] {
    TrainOptions o = tiny("transfer_parent");
    auto result = train(o);
    EXPECT_TRUE(result.is_ok()) << result.status().message();
    return o.out_dir / "checkpoint.ckpt";
  }();
  return path;
}

TrainOptions transfer(const std::string& name, int classes) {
  TrainOptions o = tiny(name);
  o.from_scratch = false;
  o.init_checkpoint = parent();
  o.num_classes = classes;
  return o;
}

TEST(TransferTest, ANewClassCountReinitializesTheLogitsOnly) {
  TrainOptions o = transfer("transfer_state", 7);
  o.class_names = {"a", "b", "c", "d", "e", "f", "g"};
  auto state = starting_state(o, o.out_dir / "checkpoint.ckpt");
  ASSERT_TRUE(state.is_ok()) << state.status().message();
  EXPECT_EQ(state.value().reinitialized, std::vector<std::string>{kLogitsScope});
  EXPECT_EQ(state.value().origin["classes_before"], 4);
  EXPECT_EQ(state.value().class_names, nlohmann::json(o.class_names));

  auto file = read_checkpoint_file(parent());
  ASSERT_TRUE(file.is_ok());
  auto before = DeepLabModel::load(file.value(), "parent");
  ASSERT_TRUE(before.is_ok()) << before.status().message();
  DeepLabModel& after = *state.value().model;
  ASSERT_EQ(after.config().num_classes, 7);
  ASSERT_EQ(after.layers().size(), before.value().layers().size());
  int kept = 0;
  for (size_t i = 0; i < after.layers().size(); ++i) {
    const ConvLayer& a = after.layers()[i];
    const ConvLayer& b = before.value().layers()[i];
    SCOPED_TRACE(a.spec.name);
    if (a.spec.name == kLogitsScope) {
      EXPECT_EQ(a.weight.sizes().vec(), (std::vector<int64_t>{7, a.spec.in_channels, 1, 1}));
      EXPECT_TRUE(torch::all(a.bias == 0).item<bool>());
      // N(0, 0.01) as from scratch: not the parent's weights, which training moved.
      const double stddev = a.weight.std().item<double>();
      EXPECT_GT(stddev, 0.005);
      EXPECT_LT(stddev, 0.02);
      EXPECT_FALSE(a.output_range.initialized);
      EXPECT_TRUE(b.output_range.initialized);
      continue;
    }
    ++kept;
    EXPECT_TRUE(torch::equal(a.weight, b.weight));
    if (a.spec.bias) EXPECT_TRUE(torch::equal(a.bias, b.bias));
    if (a.spec.batch_norm) {
      EXPECT_TRUE(torch::equal(a.gamma, b.gamma));
      EXPECT_TRUE(torch::equal(a.moving_variance, b.moving_variance));
    }
    EXPECT_EQ(a.output_range.initialized, b.output_range.initialized);
    EXPECT_EQ(a.output_range.min, b.output_range.min);
    EXPECT_EQ(a.output_range.max, b.output_range.max);
  }
  EXPECT_EQ(kept, static_cast<int>(after.layers().size()) - 1);
  for (const auto& [scope, range] : before.value().extra_ranges()) {
    ActivationRange* r = after.find_range(scope);
    ASSERT_NE(r, nullptr) << scope;
    EXPECT_EQ(r->min, range.min) << scope;
    EXPECT_EQ(r->max, range.max) << scope;
  }

  // The same class count keeps the parent's logits (and its class names), unless asked.
  TrainOptions same = transfer("transfer_state_same", 4);
  auto kept_state = starting_state(same, same.out_dir / "checkpoint.ckpt");
  ASSERT_TRUE(kept_state.is_ok()) << kept_state.status().message();
  EXPECT_TRUE(kept_state.value().reinitialized.empty());
  const ConvLayer& logits =
      kept_state.value().model->layers()[kept_state.value().model->spec().logits];
  EXPECT_TRUE(
      torch::equal(logits.weight, before.value().layers()[before.value().spec().logits].weight));
  same.reinitialize_logits = true;
  auto fresh = starting_state(same, same.out_dir / "checkpoint.ckpt");
  ASSERT_TRUE(fresh.is_ok()) << fresh.status().message();
  EXPECT_EQ(fresh.value().reinitialized, std::vector<std::string>{kLogitsScope});
}

TEST(TransferTest, TrainsFloatThenQuantizationAwareAndRecordsTheClassNames) {
  // Float fine-tune with new logits for 6 classes (the data uses 4 of them), then QAT from it.
  TrainOptions f = transfer("transfer_float", 6);
  f.quantize_delay_step = -1;
  f.class_names = {"ground", "disk", "square", "diamond", "unused_a", "unused_b"};
  f.class_colors = {"#000000", "#c82828", "#28b43c", "#3246d2", "#808080", "#ffffff"};
  auto float_run = train(f);
  ASSERT_TRUE(float_run.is_ok()) << float_run.status().message();
  auto float_file = read_checkpoint_file(float_run.value().checkpoint);
  ASSERT_TRUE(float_file.is_ok());
  EXPECT_EQ(float_file.value().meta["class_names"], nlohmann::json(f.class_names));
  EXPECT_EQ(float_file.value().meta["class_colors"], nlohmann::json(f.class_colors));
  EXPECT_EQ(float_file.value().meta["model"]["num_classes"], 6);
  EXPECT_EQ(float_file.value().meta["origin"]["reinitialized"],
            nlohmann::json::array({kLogitsScope}));
  // The logits trained: their weights moved from the fresh initialization's scale.
  const auto tensors = test::checkpoint_tensors(float_run.value().checkpoint);
  const std::vector<float>& biases = tensors.at(std::string(kLogitsScope) + "/biases");
  ASSERT_EQ(biases.size(), 6u);
  EXPECT_EQ(tensors.at(std::string(kLogitsScope) + "/weights").size() % 6, 0u);
  double bias = 0;
  for (float b : biases) bias += std::abs(b);
  EXPECT_GT(bias, 0.0);

  TrainOptions q = tiny("transfer_qat");
  q.from_scratch = false;
  q.init_checkpoint = float_run.value().checkpoint;
  q.quantize_delay_step = 0;
  auto qat_run = train(q);
  ASSERT_TRUE(qat_run.is_ok()) << qat_run.status().message();
  auto qat_file = read_checkpoint_file(qat_run.value().checkpoint);
  ASSERT_TRUE(qat_file.is_ok());
  // Same class count: the names carry over, and the logits now have a range.
  EXPECT_EQ(qat_file.value().meta["class_names"], nlohmann::json(f.class_names));
  EXPECT_TRUE(qat_file.value().meta["quantized"].get<bool>());
  EXPECT_NE(qat_file.value().find(range_name(std::string(kLogitsScope) + "/act_quant")), nullptr);
  EXPECT_FALSE(qat_file.value().meta["origin"].contains("reinitialized"));
}

TEST(TransferTest, MistakesAreOneError) {
  // Labels beyond the model's classes: one error, not an out-of-range index in the loss.
  TrainOptions few = transfer("transfer_few", 2);
  auto narrow = train(few);
  ASSERT_FALSE(narrow.is_ok());
  EXPECT_NE(narrow.status().message().find("the model has 2 classes"), std::string::npos)
      << narrow.status().message();
  // Names of another count than the model's classes.
  TrainOptions names = transfer("transfer_names", 0);
  names.class_names = {"one", "two"};
  auto wrong = train(names);
  ASSERT_FALSE(wrong.is_ok());
  EXPECT_NE(wrong.status().message().find("2 class names for a model of 4 classes"),
            std::string::npos)
      << wrong.status().message();
  TrainOptions colors = transfer("transfer_colors", 0);
  colors.class_names = {"a", "b", "c", "d"};
  colors.class_colors = {"#000000"};
  EXPECT_FALSE(train(colors).is_ok());
  TrainOptions scratch = tiny("transfer_scratch");
  scratch.reinitialize_logits = true;
  EXPECT_FALSE(train(scratch).is_ok());
  // A resumed run cannot change its class count.
  TrainOptions run = transfer("transfer_resume", 5);
  run.steps = 2;
  ASSERT_TRUE(train(run).is_ok());
  run.resume = true;
  run.steps = 4;
  run.num_classes = 6;
  auto resumed = train(run);
  ASSERT_FALSE(resumed.is_ok());
  EXPECT_NE(resumed.status().message().find("cannot change it on --resume"), std::string::npos)
      << resumed.status().message();
}

}  // namespace
}  // namespace qseg::train

// Training end to end on a generated segmentation set: a tiny DeepLab from scratch learns it (float
// and quantization-aware, the simulated-quantized model within 2 points of float), and a run
// stopped halfway and resumed ends with exactly the weights of a straight run.
#include "train/trainer.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <fstream>

#include "test_util.h"
#include "train/checkpoint_segmenter.h"
#include "train/model_names.h"
#include "train/support/calibrated_ranges.h"
#include "train/support/synthetic_data.h"

namespace qseg::train {
namespace {

const std::filesystem::path& synthetic_root() {
  static const std::filesystem::path root = [] {
    // One set per test: ctest runs the tests of this file in parallel processes.
    auto dir = test::temp_dir(std::string("train_synthetic_") +
                              ::testing::UnitTest::GetInstance()->current_test_info()->name());
    test::write_synthetic_segmentation_set(dir, 48, 12, 96, 11);
    return dir;
  }();
  return root;
}

TrainOptions tiny_options(const std::string& name) {
  TrainOptions o;
  o.from_scratch = true;
  o.scratch_config.depth_multiplier = 0.25f;
  o.scratch_config.num_classes = 4;
  o.scratch_config.output_stride = 8;
  o.scratch_config.input_height = o.scratch_config.input_width = 97;
  o.data = {{synthetic_root(), "train.txt"}};
  o.augment.crop_size = 65;
  o.augment.min_scale = 0.75f;  // milder than DeepLab's [0.5, 2]: 300 steps are few
  o.augment.max_scale = 1.25f;
  o.batch_size = 8;
  o.steps = 300;
  o.base_learning_rate = 0.1;
  o.batch_norm_decay = 0.9f;
  o.seed = 3;
  o.num_threads = 1;
  o.loader_threads = 1;
  o.checkpoint_every = 1000;
  o.progress = false;
  o.out_dir = test::temp_dir(name);
  return o;
}

SegmentationScores scores(const std::filesystem::path& checkpoint, CheckpointPrecision precision) {
  auto samples = read_training_samples({{synthetic_root(), "val.txt"}});
  EXPECT_TRUE(samples.is_ok());
  CheckpointSegmenterOptions options;
  options.precision = precision;
  auto result = evaluate_checkpoint(checkpoint, samples.value(), options);
  EXPECT_TRUE(result.is_ok()) << result.status().message();
  return result.is_ok() ? result.value() : SegmentationScores{};
}

TEST(TrainerTest, PolynomialDecay) {
  EXPECT_DOUBLE_EQ(polynomial_learning_rate(0.1, 0, 100, 0.9), 0.1);
  EXPECT_NEAR(polynomial_learning_rate(0.1, 50, 100, 0.9), 0.1 * std::pow(0.5, 0.9), 1e-12);
  EXPECT_DOUBLE_EQ(polynomial_learning_rate(0.1, 100, 100, 0.9), 0.0);
}

TEST(TrainerTest, TinyDeepLabLearnsFloatAndQuantizationAware) {
  TrainOptions float_options = tiny_options("train_tiny_float");
  auto trained = train(float_options);
  ASSERT_TRUE(trained.is_ok()) << trained.status().message();
  const SegmentationScores f = scores(trained.value().checkpoint, CheckpointPrecision::kFloat);
  std::printf("float from scratch, %ld steps: loss %.3f, val mIoU %.2f%%\n", float_options.steps,
              trained.value().final_loss, 100 * f.mean_iou);
  EXPECT_GT(f.mean_iou, 0.70);

  // Quantization-aware from step 100, batch norm frozen to moving statistics at step 200.
  TrainOptions qat_options = tiny_options("train_tiny_qat");
  qat_options.quantize_delay_step = 100;
  qat_options.freeze_batch_norm_step = 200;
  auto qat = train(qat_options);
  ASSERT_TRUE(qat.is_ok()) << qat.status().message();
  const SegmentationScores qf = scores(qat.value().checkpoint, CheckpointPrecision::kFloat);
  const SegmentationScores qs = scores(qat.value().checkpoint, CheckpointPrecision::kSimulated);
  std::printf(
      "quantization-aware: loss %.3f, val mIoU float %.2f%%, simulated quantization %.2f%%\n",
      qat.value().final_loss, 100 * qf.mean_iou, 100 * qs.mean_iou);
  EXPECT_GT(qs.mean_iou, 0.70);
  EXPECT_LT(std::abs(qs.mean_iou - qf.mean_iou), 0.02);
  // The log, the plot and the checkpoint's state are there.
  EXPECT_TRUE(std::filesystem::exists(qat_options.out_dir / "loss.svg"));
  std::ifstream log(qat_options.out_dir / "train_log.csv");
  int lines = 0;
  for (std::string line; std::getline(log, line);) ++lines;
  EXPECT_EQ(lines, 301);
  auto file = read_checkpoint_file(qat.value().checkpoint);
  ASSERT_TRUE(file.is_ok());
  EXPECT_EQ(file.value().meta["train"]["step"], 300);
  EXPECT_TRUE(file.value().meta["quantized"].get<bool>());

  // The recommended recipe: fine-tune the converged float model with fake quantization from the
  // first step at a small learning rate. Its simulated-quantized mIoU is within 2 points of the
  // float model's.
  TrainOptions tune_options = tiny_options("train_tiny_finetune");
  tune_options.from_scratch = false;
  tune_options.init_checkpoint = trained.value().checkpoint;
  tune_options.quantize_delay_step = 0;
  tune_options.steps = 100;
  tune_options.base_learning_rate = 0.01;
  auto tuned = train(tune_options);
  ASSERT_TRUE(tuned.is_ok()) << tuned.status().message();
  const SegmentationScores ts = scores(tuned.value().checkpoint, CheckpointPrecision::kSimulated);
  std::printf("quantization-aware fine-tune of the float model, %ld steps: simulated %.2f%%\n",
              tune_options.steps, 100 * ts.mean_iou);
  EXPECT_LT(std::abs(ts.mean_iou - f.mean_iou), 0.02);
}

std::vector<float> all_weights(const std::filesystem::path& checkpoint) {
  auto file = read_checkpoint_file(checkpoint);
  EXPECT_TRUE(file.is_ok());
  std::vector<float> values;
  for (const CheckpointTensor& t : file.value().tensors)
    values.insert(values.end(), t.data.begin(), t.data.end());
  return values;
}

TEST(TrainerTest, ResumeContinuesExactly) {
  // Quantization starts at step 6 and batch norm freezes at step 8, so the resumed half covers
  // both switches; dropout, augmentation, ranges and momentum all carry over.
  TrainOptions straight = tiny_options("train_resume_straight");
  straight.steps = 12;
  straight.quantize_delay_step = 6;
  straight.freeze_batch_norm_step = 8;
  straight.loader_threads = 2;
  ASSERT_TRUE(train(straight).is_ok());

  TrainOptions halves = straight;
  halves.out_dir = test::temp_dir("train_resume_halves");
  halves.stop_at_step = 6;
  halves.loader_threads = 0;  // the batches do not depend on the loader threads
  auto first = train(halves);
  ASSERT_TRUE(first.is_ok()) << first.status().message();
  EXPECT_EQ(first.value().last_step, 6);
  halves.stop_at_step = -1;
  halves.resume = true;
  halves.seed = 999;  // ignored: the seed comes from the checkpoint
  auto second = train(halves);
  ASSERT_TRUE(second.is_ok()) << second.status().message();
  EXPECT_EQ(second.value().first_step, 6);
  EXPECT_EQ(all_weights(straight.out_dir / "checkpoint.ckpt"),
            all_weights(halves.out_dir / "checkpoint.ckpt"));
}

// The ranges of a checkpoint, by scope ("aspp0/act_quant").
std::map<std::string, std::pair<float, float>> checkpoint_ranges(
    const std::filesystem::path& path) {
  auto file = read_checkpoint_file(path);
  EXPECT_TRUE(file.is_ok());
  std::map<std::string, std::pair<float, float>> ranges;
  const std::string suffix = "/range";
  for (const CheckpointTensor& t : file.value().tensors) {
    if (t.name.size() > suffix.size() &&
        t.name.compare(t.name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      ranges[t.name.substr(0, t.name.size() - suffix.size())] = {t.data[0], t.data[1]};
    }
  }
  return ranges;
}

// Quantization starts from ranges calibrated on the training photos, as post-training
// quantization measures them on the same weights: after the first quantized step every range is
// the calibrated one moved by one moving-average step, whatever the step's batch held; tracked
// ranges instead start from that batch.
TEST(TrainerTest, QuantizationStartsFromCalibratedRanges) {
  TrainOptions parent = tiny_options("train_ranges_parent");
  parent.steps = 20;
  auto trained = train(parent);
  ASSERT_TRUE(trained.is_ok()) << trained.status().message();

  TrainOptions start = tiny_options("train_ranges_calibrated");
  start.from_scratch = false;
  start.init_checkpoint = trained.value().checkpoint;
  start.steps = 1;
  start.base_learning_rate = 1e-9;
  start.train_batch_norm = false;
  start.quantize_delay_step = 0;
  start.range_calibration_images = 8;
  auto started = train(start);
  ASSERT_TRUE(started.is_ok()) << started.status().message();
  const auto after_step = checkpoint_ranges(start.out_dir / "checkpoint.ckpt");

  // The calibration, done here independently on the same 8 photos spread over the data.
  auto samples = read_training_samples(start.data);
  ASSERT_TRUE(samples.is_ok());
  std::vector<std::filesystem::path> photos;
  for (const TrainingSample& sample : samples.value()) photos.push_back(sample.photo_path);
  RangeCalibrationOptions calibration;
  calibration.photos = spread_photos(photos, 8);
  ASSERT_EQ(calibration.photos.size(), 8u);
  auto parent_file = read_checkpoint_file(trained.value().checkpoint);
  ASSERT_TRUE(parent_file.is_ok());
  auto calibrated = calibrated_ranges(parent_file.value(), "parent", calibration);
  ASSERT_TRUE(calibrated.is_ok()) << calibrated.status().message();
  ASSERT_GT(calibrated.value().size(), 40u);  // every conv, add and concat of the model

  int tracked_far = 0;
  TrainOptions tracked = start;
  tracked.out_dir = test::temp_dir("train_ranges_tracked");
  tracked.range_init = RangeInit::kTracked;
  ASSERT_TRUE(train(tracked).is_ok());
  const auto tracked_ranges = checkpoint_ranges(tracked.out_dir / "checkpoint.ckpt");
  for (const auto& [scope, r] : calibrated.value()) {
    ASSERT_EQ(after_step.count(scope), 1u) << scope;
    const float lo = std::min(r.first, 0.0f), hi = std::max(r.second, 0.0f);
    // One moving-average step of decay 0.999 moves a bound by at most 0.1% of the distance to
    // the batch's.
    const float width = hi - lo;
    EXPECT_NEAR(after_step.at(scope).first, lo, 2e-3f * width + 1e-6f) << scope;
    EXPECT_NEAR(after_step.at(scope).second, hi, 2e-3f * width + 1e-6f) << scope;
    const auto& t = tracked_ranges.at(scope);
    if (std::abs(t.first - lo) > 0.05f * width || std::abs(t.second - hi) > 0.05f * width)
      ++tracked_far;
  }
  EXPECT_GT(tracked_far, 0) << "tracked ranges (one batch's) came out as the calibrated ones";
}

TEST(TrainerTest, BadInputsAreErrors) {
  TrainOptions o = tiny_options("train_bad_inputs");
  o.steps = 0;
  EXPECT_FALSE(train(o).is_ok());
  o = tiny_options("train_bad_inputs");
  o.from_scratch = false;
  o.init_checkpoint = o.out_dir / "missing.ckpt";
  auto missing = train(o);
  ASSERT_FALSE(missing.is_ok());
  EXPECT_NE(missing.status().message().find("missing.ckpt"), std::string::npos);
  o = tiny_options("train_bad_inputs");
  o.data = {{o.out_dir / "nowhere", "train.txt"}};
  EXPECT_FALSE(train(o).is_ok());
  o = tiny_options("train_bad_inputs");
  o.resume = true;  // no checkpoint to resume from
  auto resume = train(o);
  ASSERT_FALSE(resume.is_ok());
  EXPECT_NE(resume.status().message().find("checkpoint.ckpt"), std::string::npos);
}

}  // namespace
}  // namespace qseg::train

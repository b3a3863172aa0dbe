// The training data pipeline: DeepLab's augmentation (scale set, mean-pixel/ignore padding, crop,
// flip, normalization), deterministic batches whatever the thread count, sample order per epoch.
#include "train/support/data.h"

#include <gtest/gtest.h>

#include <set>

#include "test_util.h"
#include "train/support/synthetic_data.h"

namespace qseg::train {
namespace {

// A 4x3 photo whose pixel (x, y) has value 10 * x + y in every channel, labels x + 1.
void small_example(Image* rgb, Image* labels) {
  *rgb = Image(4, 3, 3);
  *labels = Image(4, 3, 1);
  for (int y = 0; y < 3; ++y) {
    for (int x = 0; x < 4; ++x) {
      for (int c = 0; c < 3; ++c) rgb->row(y)[x * 3 + c] = static_cast<uint8_t>(10 * x + y);
      labels->row(y)[x] = static_cast<uint8_t>(x + 1);
    }
  }
}

TEST(AugmentTest, PadsWithTheMeanPixelAndIgnoreLabel) {
  Image rgb, labels;
  small_example(&rgb, &labels);
  AugmentOptions o;
  o.crop_size = 17;
  o.min_scale = o.max_scale = 1.0f;
  o.flip = false;
  std::vector<float> image(3 * 17 * 17);
  std::vector<uint8_t> out(17 * 17);
  augment(rgb, labels, o, 1, image.data(), out.data());
  // Crop offsets are 0 (the padded image is the crop size): the photo is at the top left.
  EXPECT_FLOAT_EQ(image[0], -1.0f);                                      // pixel 0 -> 2/255*0 - 1
  EXPECT_FLOAT_EQ(image[1 * 17 + 3], 2.0f / 255 * 31 - 1.0f);            // (x 3, y 1) = 31
  EXPECT_FLOAT_EQ(image[2 * 289 + 2 * 17 + 2], 2.0f / 255 * 22 - 1.0f);  // third channel
  EXPECT_EQ(out[1 * 17 + 3], 4);
  EXPECT_FLOAT_EQ(image[5 * 17 + 5], 0.0f);  // padding: the mean pixel, 0 after normalization
  EXPECT_EQ(out[5 * 17 + 5], kIgnoreLabel);
  EXPECT_EQ(out[0 * 17 + 4], kIgnoreLabel);
}

TEST(AugmentTest, FlipsLeftRightAndDrawsScalesFromTheSet) {
  Image rgb, labels;
  small_example(&rgb, &labels);
  AugmentOptions o;
  o.crop_size = 17;
  std::set<int> widths;
  bool flipped = false, unflipped = false;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    std::vector<float> image(3 * 17 * 17);
    std::vector<uint8_t> out(17 * 17);
    augment(rgb, labels, o, seed, image.data(), out.data());
    // Labelled columns in row 0 tell the scaled width and whether it was flipped.
    int count = 0;
    for (int x = 0; x < 17; ++x) count += out[x] != kIgnoreLabel;
    widths.insert(count);
    if (out[0] == 1) unflipped = true;
    if (out[16] == 1) flipped = true;
  }
  // Scales 0.5, 0.75, ..., 2.0 of width 4: int(4 * s) = 2, 3, 4, 5, 6, 7, 8.
  EXPECT_EQ(widths, (std::set<int>{2, 3, 4, 5, 6, 7, 8}));
  EXPECT_TRUE(flipped);
  EXPECT_TRUE(unflipped);
}

TEST(AugmentTest, SameSeedSameResult) {
  Image rgb, labels;
  small_example(&rgb, &labels);
  AugmentOptions o;
  o.crop_size = 17;
  std::vector<float> a(3 * 289), b(3 * 289);
  std::vector<uint8_t> la(289), lb(289);
  augment(rgb, labels, o, 42, a.data(), la.data());
  augment(rgb, labels, o, 42, b.data(), lb.data());
  EXPECT_EQ(a, b);
  EXPECT_EQ(la, lb);
}

TEST(BatchLoaderTest, BatchesDependOnlyOnSeedAndStep) {
  const auto root = test::temp_dir("data_loader");
  test::write_synthetic_segmentation_set(root, 10, 0, 40, 5);
  auto samples = read_training_samples({{root, "train.txt"}});
  ASSERT_TRUE(samples.is_ok()) << samples.status().message();
  LoaderOptions o;
  o.augment.crop_size = 33;
  o.batch_size = 4;
  o.seed = 9;
  auto batches = [&](int threads, int64_t first) {
    LoaderOptions with = o;
    with.num_threads = threads;
    auto loader = BatchLoader::create(samples.value(), with);
    EXPECT_TRUE(loader.is_ok());
    std::vector<std::vector<float>> out;
    for (int64_t step = first; step < 6; ++step) {
      auto batch = loader.value()->get(step);
      EXPECT_TRUE(batch.is_ok());
      out.push_back(batch.value().images);
    }
    return out;
  };
  const auto inline_batches = batches(0, 0);
  EXPECT_EQ(batches(3, 0), inline_batches);
  const auto resumed = batches(2, 3);  // starting at step 3, as a resumed run does
  EXPECT_EQ(resumed,
            std::vector<std::vector<float>>(inline_batches.begin() + 3, inline_batches.end()));
  // Every epoch visits every sample once.
  auto loader = BatchLoader::create(samples.value(), o);
  ASSERT_TRUE(loader.is_ok());
  for (int epoch = 0; epoch < 3; ++epoch) {
    std::set<size_t> seen;
    for (int i = 0; i < 10; ++i) seen.insert(loader.value()->sample_index(epoch * 10 + i));
    EXPECT_EQ(seen.size(), 10u);
  }
}

TEST(BatchLoaderTest, ErrorsNameTheSample) {
  const auto root = test::temp_dir("data_loader_errors");
  test::write_synthetic_segmentation_set(root, 3, 0, 40, 5);
  std::filesystem::remove(root / "SegmentationClass" / "synthetic_1.png");
  auto samples = read_training_samples({{root, "train.txt"}});
  ASSERT_TRUE(samples.is_ok());
  LoaderOptions o;
  o.augment.crop_size = 33;
  o.batch_size = 3;
  auto loader = BatchLoader::create(samples.value(), o);
  ASSERT_TRUE(loader.is_ok());
  auto batch = loader.value()->get(0);
  ASSERT_FALSE(batch.is_ok());
  EXPECT_NE(batch.status().message().find("synthetic_1.png"), std::string::npos)
      << batch.status().message();
  EXPECT_FALSE(read_training_samples({{root, "nonexistent.txt"}}).is_ok());
  o.batch_size = 0;
  EXPECT_FALSE(BatchLoader::create(samples.value(), o).is_ok());
}

}  // namespace
}  // namespace qseg::train

// DeepLab's multi-scale and flipped evaluation of float checkpoints (CheckpointSegmenter's
// scales and flip): the scaled sides are DeepLab's, flipping makes the prediction of a
// mirror-symmetric photo mirror-symmetric, one scale of 1 is the single-scale path, and what
// DeepLab does not do (quantized models, scales out of range) is refused.
#include <gtest/gtest.h>

#include <filesystem>

#include "model/checkpoint_file.h"
#include "random_checkpoint.h"
#include "test_util.h"
#include "train/checkpoint_segmenter.h"

namespace qseg::train {
namespace {

// A random float checkpoint (dm 0.25, 6 classes, 65x65 input), written once.
std::filesystem::path random_float_checkpoint() {
  static const std::filesystem::path path = [] {
    model::DeepLabConfig config;
    config.depth_multiplier = 0.25f;
    config.num_classes = 6;
    config.input_height = config.input_width = 65;
    auto file = test::random_checkpoint(config, 3);
    EXPECT_TRUE(file.is_ok()) << file.status().message();
    const auto p = test::temp_dir("multi_scale_eval") / "random.ckpt";
    const Status written = model::write_checkpoint_file(p, file.value());
    EXPECT_TRUE(written.is_ok()) << written.message();
    return p;
  }();
  return path;
}

// A 65x65 photo whose column x equals column 64 - x.
Image mirror_symmetric_photo() {
  Image photo(65, 65, 3);
  for (int y = 0; y < 65; ++y) {
    for (int x = 0; x < 65; ++x) {
      const int m = std::min(x, 64 - x);
      for (int c = 0; c < 3; ++c) {
        photo.row(y)[x * 3 + c] =
            static_cast<uint8_t>((m * 37 + y * 11 + c * 80 + (m * y) % 29) % 256);
      }
    }
  }
  return photo;
}

Image segment(const CheckpointSegmenterOptions& options, const Image& photo) {
  auto segmenter = CheckpointSegmenter::load(random_float_checkpoint(), options);
  EXPECT_TRUE(segmenter.is_ok()) << segmenter.status().message();
  if (!segmenter.is_ok()) return {};
  auto labels = segmenter.value()->segment(photo);
  EXPECT_TRUE(labels.is_ok()) << labels.status().message();
  return labels.is_ok() ? labels.value() : Image{};
}

// Pixels whose mirror image (x -> width - 1 - x) has another label.
int asymmetric_pixels(const Image& labels) {
  int n = 0;
  for (int y = 0; y < labels.height; ++y) {
    for (int x = 0; x < labels.width; ++x)
      n += labels.row(y)[x] != labels.row(y)[labels.width - 1 - x];
  }
  return n;
}

int differing_pixels(const Image& a, const Image& b) {
  int n = 0;
  for (size_t i = 0; i < a.pixels.size(); ++i) n += a.pixels[i] != b.pixels[i];
  return n;
}

TEST(MultiScaleEval, ScaledSidesAreDeepLabs) {
  // scale_dimension: int((513 - 1) * scale + 1), the sizes DeepLab's eval feeds the network.
  EXPECT_EQ(scaled_side(513, 0.5), 257);
  EXPECT_EQ(scaled_side(513, 0.75), 385);
  EXPECT_EQ(scaled_side(513, 1.0), 513);
  EXPECT_EQ(scaled_side(513, 1.25), 641);
  EXPECT_EQ(scaled_side(513, 1.5), 769);
  EXPECT_EQ(scaled_side(513, 1.75), 897);
}

TEST(MultiScaleEval, FlipMakesAMirrorSymmetricPhotoSymmetric) {
  const Image photo = mirror_symmetric_photo();
  CheckpointSegmenterOptions options;
  options.precision = CheckpointPrecision::kFloat;
  const Image single = segment(options, photo);
  ASSERT_EQ(single.width, 65);
  // The network alone is not symmetric (stride-2 convolutions pad one side more), so the
  // symmetry below comes from averaging the flipped view in.
  ASSERT_GT(asymmetric_pixels(single), 0);
  options.flip = true;
  const Image flipped = segment(options, photo);
  EXPECT_EQ(asymmetric_pixels(flipped), 0);
  options.scales = {0.5, 1.0, 1.5};
  const Image multi = segment(options, photo);
  ASSERT_EQ(multi.width, 65);
  ASSERT_EQ(multi.height, 65);
  EXPECT_EQ(asymmetric_pixels(multi), 0);
  EXPECT_GT(differing_pixels(multi, flipped), 0) << "the other scales changed nothing";
  for (uint8_t id : multi.pixels) EXPECT_LT(id, 6);
}

TEST(MultiScaleEval, ScaleOneAloneIsTheSingleScaleRun) {
  const Image photo = mirror_symmetric_photo();
  CheckpointSegmenterOptions options;
  options.precision = CheckpointPrecision::kFloat;
  const Image single = segment(options, photo);
  options.scales = {1.0};
  EXPECT_EQ(differing_pixels(segment(options, photo), single), 0);
  options.scales = {1.0, 1.25};
  const Image two = segment(options, photo);
  ASSERT_EQ(two.pixels.size(), single.pixels.size());
  EXPECT_GT(differing_pixels(two, single), 0);
}

TEST(MultiScaleEval, RefusesWhatDeepLabDoesNotDo) {
  const auto error = [](const CheckpointSegmenterOptions& options) {
    auto s = CheckpointSegmenter::load(random_float_checkpoint(), options);
    return s.is_ok() ? std::string() : s.status().message();
  };
  CheckpointSegmenterOptions options;
  options.precision = CheckpointPrecision::kSimulated;
  options.flip = true;
  EXPECT_NE(error(options).find("for float"), std::string::npos) << error(options);
  options.precision = CheckpointPrecision::kFloat;
  options.scales = {0.1};
  EXPECT_NE(error(options).find("[0.25, 4]"), std::string::npos) << error(options);
  options.scales = {1.0, 0.5, 1.0};
  EXPECT_NE(error(options).find("given twice"), std::string::npos) << error(options);
  options.scales = {0.25};  // 65 -> 17 pixels: allowed
  EXPECT_EQ(error(options), "");
  options.input_size = 33;  // 33 -> 9 pixels
  EXPECT_NE(error(options).find("fewer than 17"), std::string::npos) << error(options);
}

}  // namespace
}  // namespace qseg::train

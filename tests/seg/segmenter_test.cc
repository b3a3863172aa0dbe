// The Segmenter's pre/post-processing: sizes kept through resize, pad and crop; the float
// (logits) model and the uint8 (ArgMax) models agree on real photos; bad images are errors.
#include "qseg/segmenter.h"

#include <gtest/gtest.h>

#include "imgproc/image_io.h"
#include "test_util.h"

namespace qseg {
namespace {

TEST(FitSize, KeepsAspectRatioAndFitsTheLongerSide) {
  int w = 0, h = 0;
  fit_size(500, 375, 513, 513, &w, &h);  // already fits: unchanged
  EXPECT_EQ(w, 500);
  EXPECT_EQ(h, 375);
  fit_size(1000, 500, 513, 513, &w, &h);
  EXPECT_EQ(w, 513);
  EXPECT_EQ(h, 257);  // 256.5 rounds up
  fit_size(300, 900, 257, 257, &w, &h);
  EXPECT_EQ(h, 257);
  EXPECT_EQ(w, 86);  // 85.67
  fit_size(10000, 1, 513, 513, &w, &h);
  EXPECT_EQ(w, 513);
  EXPECT_EQ(h, 1);
  fit_size(513, 513, 513, 513, &w, &h);
  EXPECT_EQ(w, 513);
}

std::unique_ptr<Segmenter> load(const char* model) {
  auto s = Segmenter::load(test::shared_path(model));
  EXPECT_TRUE(s.is_ok()) << s.status().message();
  return std::move(s).value();
}

TEST(Segmenter, OutputHasThePhotoSizeForAnyShape) {
  auto segmenter = load("models/deeplabv3_mnv2_dm05_pascal_quant.tflite");
  for (auto [w, h] : {std::pair{1, 1}, {2, 700}, {700, 3}, {513, 514}, {37, 41}}) {
    Image photo(w, h, 3, 90);
    auto labels = segmenter->segment(photo);
    ASSERT_TRUE(labels.is_ok()) << labels.status().message();
    EXPECT_EQ(labels->width, w);
    EXPECT_EQ(labels->height, h);
    EXPECT_EQ(labels->channels, 1);
    for (uint8_t v : labels->pixels) EXPECT_LT(v, 21);
  }
}

TEST(Segmenter, RejectsNonRgbImages) {
  auto segmenter = load("models/deeplabv3_mnv2_dm05_pascal_quant.tflite");
  EXPECT_FALSE(segmenter->segment(Image(4, 4, 1)).is_ok());
  EXPECT_FALSE(segmenter->segment(Image()).is_ok());
}

// The float 257x257 model outputs logits; the uint8 513x513 models output labels. On a photo of
// another size both paths must land on mostly the same classes.
TEST(Segmenter, FloatLogitsPathAgreesWithUint8LabelsPath) {
  auto uint8_model = load("models/deeplabv3_mnv2_pascal_quant.tflite");
  auto float_model = load("models/deeplabv3_257_mv_gpu.tflite");
  EXPECT_TRUE(uint8_model->outputs_labels());
  EXPECT_FALSE(float_model->outputs_labels());
  auto photo = read_image(test::shared_path("images/bird.bmp"));
  ASSERT_TRUE(photo.is_ok());
  auto a = uint8_model->segment(photo.value());
  auto b = float_model->segment(photo.value());
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  ASSERT_EQ(a->pixels.size(), b->pixels.size());
  int64_t same = 0, bird_a = 0, bird_b = 0;
  for (size_t i = 0; i < a->pixels.size(); ++i) {
    same += a->pixels[i] == b->pixels[i];
    bird_a += a->pixels[i] == 3;
    bird_b += b->pixels[i] == 3;
  }
  EXPECT_GT(static_cast<double>(same) / static_cast<double>(a->pixels.size()), 0.9);
  EXPECT_GT(bird_a, static_cast<int64_t>(a->pixels.size() / 20));  // the bird is found by both
  EXPECT_GT(bird_b, static_cast<int64_t>(a->pixels.size() / 20));
}

TEST(Segmenter, ThreadCountDoesNotChangeLabels) {
  auto photo = read_image(test::shared_path("voc2012/JPEGImages/2007_000042.jpg"));
  ASSERT_TRUE(photo.is_ok());
  SegmenterOptions one, two;
  two.num_threads = 2;
  auto a =
      Segmenter::load(test::shared_path("models/deeplabv3_mnv2_dm05_pascal_quant.tflite"), one);
  auto b =
      Segmenter::load(test::shared_path("models/deeplabv3_mnv2_dm05_pascal_quant.tflite"), two);
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  auto la = a.value()->segment(photo.value());
  auto lb = b.value()->segment(photo.value());
  ASSERT_TRUE(la.is_ok() && lb.is_ok());
  EXPECT_EQ(la->pixels, lb->pixels);
}

}  // namespace
}  // namespace qseg

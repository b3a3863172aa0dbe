// The Segmenter's pre/post-processing: sizes kept through resize, pad and crop; the float
// (logits) model and the uint8 (ArgMax) models agree on real photos; bad images are errors;
// photos fit a non-square model input (letterboxed, padded with the zero point, cropped back).
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

// Left half green (label 1), right half blue (label 2).
Image green_then_blue(int width, int height) {
  Image photo(width, height, 3, 0);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) photo.row(y)[x * 3 + (x < width / 2 ? 1 : 2)] = 255;
  }
  return photo;
}

// A 384x640 (height x width) model: landscape and portrait photos larger than the input are
// resized so that they fit with their aspect ratio kept, in the top-left corner; the rest is the
// input's zero point; the labels are cropped to the photo and resized back to its size.
TEST(Segmenter, FitsPhotosToANonSquareInput) {
  auto created = Segmenter::create(test::channel_argmax_model(384, 640));
  ASSERT_TRUE(created.is_ok()) << created.status().message();
  Segmenter& segmenter = *created.value();
  EXPECT_EQ(segmenter.input_width(), 640);
  EXPECT_EQ(segmenter.input_height(), 384);
  struct Case {
    int width, height;          // the photo
    int fit_width, fit_height;  // where it lands in the 640x384 input
  };
  for (const Case& c : {Case{1280, 480, 640, 240},    // landscape: the width fills the input
                        Case{480, 1280, 144, 384},    // portrait: the height does
                        Case{1000, 600, 640, 384},    // the input's own aspect ratio
                        Case{300, 200, 300, 200}}) {  // fits already: not resized
    SCOPED_TRACE(std::to_string(c.width) + "x" + std::to_string(c.height));
    const Image photo = green_then_blue(c.width, c.height);
    auto input = segmenter.model_input(photo);
    ASSERT_TRUE(input.is_ok()) << input.status().message();
    ASSERT_EQ(input->size(), size_t{640} * 384 * 3);
    int64_t photo_pixels = 0, padding_pixels = 0, misplaced = 0;
    for (int y = 0; y < 384; ++y) {
      for (int x = 0; x < 640; ++x) {
        const uint8_t* p = input->data() + (static_cast<size_t>(y) * 640 + x) * 3;
        const bool inside = x < c.fit_width && y < c.fit_height;
        const bool padding = p[0] == 128 && p[1] == 128 && p[2] == 128;
        photo_pixels += inside && p[0] == 0;  // the photo has no red
        padding_pixels += !inside && padding;
        misplaced += inside == padding;
      }
    }
    EXPECT_EQ(misplaced, 0);
    EXPECT_EQ(photo_pixels, int64_t{c.fit_width} * c.fit_height);
    EXPECT_EQ(padding_pixels, int64_t{640} * 384 - int64_t{c.fit_width} * c.fit_height);

    auto labels = segmenter.segment(photo);
    ASSERT_TRUE(labels.is_ok()) << labels.status().message();
    ASSERT_EQ(labels->width, c.width);
    ASSERT_EQ(labels->height, c.height);
    // The padding (label 0) never reaches the photo; each half keeps its colour away from the
    // seam that resizing blurs.
    int64_t wrong = 0;
    const int margin = c.width / 50 + 2;
    for (int y = 0; y < c.height; ++y) {
      for (int x = 0; x < c.width; ++x) {
        const uint8_t label = labels->row(y)[x];
        if (label == 0) ++wrong;
        if (x < c.width / 2 - margin && label != 1) ++wrong;
        if (x >= c.width / 2 + margin && label != 2) ++wrong;
      }
    }
    EXPECT_EQ(wrong, 0);
  }
}

}  // namespace
}  // namespace qseg

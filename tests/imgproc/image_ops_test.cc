// Tests of resize, pad, crop, the VOC colour map, colorize and overlay against hand-computed
// values and an independent double-precision bilinear reference.
#include "imgproc/image_ops.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace qseg {
namespace {

Image make_image(int width, int height, int channels, std::vector<uint8_t> pixels) {
  Image image(width, height, channels);
  EXPECT_EQ(pixels.size(), image.pixels.size());
  image.pixels = std::move(pixels);
  return image;
}

Image random_image(int width, int height, int channels, std::mt19937& rng) {
  Image image(width, height, channels);
  std::uniform_int_distribution<int> value(0, 255);
  for (auto& p : image.pixels) p = static_cast<uint8_t>(value(rng));
  return image;
}

TEST(ResizeBilinear, IdentityKeepsPixels) {
  std::mt19937 rng(1);
  for (int channels : {1, 3}) {
    const Image image = random_image(7, 5, channels, rng);
    for (bool align : {false, true}) {
      const Image out = resize_bilinear(image, 7, 5, align);
      EXPECT_EQ(out.pixels, image.pixels);
      EXPECT_EQ(out.channels, channels);
    }
  }
}

TEST(ResizeBilinear, TwoByTwoToThreeByThreeAlignCorners) {
  const Image image = make_image(2, 2, 1, {0, 100, 200, 50});
  const Image out = resize_bilinear(image, 3, 3, /*align_corners=*/true);
  ASSERT_EQ(out.width, 3);
  ASSERT_EQ(out.height, 3);
  // Corners map onto corners; edges are midpoints; the centre is 87.5, rounded to 88.
  const std::vector<uint8_t> expected = {0, 50, 100, 100, 88, 75, 200, 125, 50};
  EXPECT_EQ(out.pixels, expected);
}

TEST(ResizeBilinear, UpscaleWithoutAlignCornersReplicatesTheLastEdge) {
  // scale = 2/4: sources 0, 0.5, 1, 1.5 (clamped to 1).
  const Image image = make_image(2, 1, 1, {0, 100});
  const Image out = resize_bilinear(image, 4, 1, false);
  EXPECT_EQ(out.pixels, (std::vector<uint8_t>{0, 50, 100, 100}));
  const Image aligned = resize_bilinear(image, 4, 1, true);  // sources 0, 1/3, 2/3, 1
  EXPECT_EQ(aligned.pixels, (std::vector<uint8_t>{0, 33, 67, 100}));
}

TEST(ResizeBilinear, DownscaleWithoutAlignCornersSamplesEverySecondPixel) {
  const Image image = make_image(4, 1, 1, {10, 20, 30, 40});
  EXPECT_EQ(resize_bilinear(image, 2, 1, false).pixels, (std::vector<uint8_t>{10, 30}));
  EXPECT_EQ(resize_bilinear(image, 2, 1, true).pixels, (std::vector<uint8_t>{10, 40}));
}

TEST(ResizeBilinear, ChannelsAreInterpolatedSeparately) {
  const Image image = make_image(2, 1, 3, {0, 255, 10, 255, 0, 20});
  const Image out = resize_bilinear(image, 3, 1, true);
  EXPECT_EQ(out.pixels, (std::vector<uint8_t>{0, 255, 10, 128, 128, 15, 255, 0, 20}));
}

// TF's legacy bilinear resize in double precision, rounded: the result may differ by 1 from
// the float implementation only where the exact value is next to a .5 boundary.
double reference_bilinear(const Image& image, int x, int y, int c, int out_w, int out_h,
                          bool align) {
  auto scale = [&](int in, int out) {
    return (align && out > 1) ? double(in - 1) / (out - 1) : double(in) / out;
  };
  const double sx = x * scale(image.width, out_w), sy = y * scale(image.height, out_h);
  const int x0 = int(std::floor(sx)), y0 = int(std::floor(sy));
  const int x1 = std::min(x0 + 1, image.width - 1), y1 = std::min(y0 + 1, image.height - 1);
  const double fx = sx - x0, fy = sy - y0;
  auto at = [&](int xx, int yy) { return double(image.row(yy)[xx * image.channels + c]); };
  return (1 - fy) * ((1 - fx) * at(x0, y0) + fx * at(x1, y0)) +
         fy * ((1 - fx) * at(x0, y1) + fx * at(x1, y1));
}

TEST(ResizeBilinear, MatchesDoublePrecisionReferenceOnRandomShapes) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> size(1, 40);
  for (int trial = 0; trial < 60; ++trial) {
    const int channels = trial % 2 ? 3 : 1;
    const Image image = random_image(size(rng), size(rng), channels, rng);
    const int out_w = size(rng), out_h = size(rng);
    const bool align = trial % 3 == 0;
    const Image out = resize_bilinear(image, out_w, out_h, align);
    ASSERT_EQ(out.width, out_w);
    ASSERT_EQ(out.height, out_h);
    for (int y = 0; y < out_h; ++y) {
      for (int x = 0; x < out_w; ++x) {
        for (int c = 0; c < channels; ++c) {
          const double expected = reference_bilinear(image, x, y, c, out_w, out_h, align);
          const int got = out.row(y)[x * channels + c];
          ASSERT_LE(std::abs(got - expected), 0.5 + 1e-3)
              << "trial " << trial << " at " << x << "," << y << "," << c;
        }
      }
    }
  }
}

TEST(ResizeBilinear, InvalidArgumentsGiveAnEmptyImage) {
  const Image image(4, 4, 3);
  EXPECT_TRUE(resize_bilinear(image, 0, 4, true).empty());
  EXPECT_TRUE(resize_bilinear(image, 4, -1, false).empty());
  EXPECT_TRUE(resize_bilinear(Image(), 4, 4, false).empty());
}

TEST(ResizeNearest, AlignCornersRoundsTheSourceIndex) {
  // 3 -> 5 with align_corners: scale 0.5, sources round(0, .5, 1, 1.5, 2) = 0, 1, 1, 2, 2.
  const Image image = make_image(3, 1, 1, {10, 20, 30});
  EXPECT_EQ(resize_nearest(image, 5, 1, true).pixels, (std::vector<uint8_t>{10, 20, 20, 30, 30}));
  // Without: scale 0.6, floor(0, .6, 1.2, 1.8, 2.4) = 0, 0, 1, 1, 2.
  EXPECT_EQ(resize_nearest(image, 5, 1, false).pixels, (std::vector<uint8_t>{10, 10, 20, 20, 30}));
}

TEST(ResizeNearest, Downscale) {
  const Image image = make_image(5, 1, 1, {1, 2, 3, 4, 5});
  EXPECT_EQ(resize_nearest(image, 2, 1, true).pixels, (std::vector<uint8_t>{1, 5}));   // 0, 4
  EXPECT_EQ(resize_nearest(image, 2, 1, false).pixels, (std::vector<uint8_t>{1, 3}));  // 0, 2.5
  EXPECT_EQ(resize_nearest(image, 1, 1, true).pixels, (std::vector<uint8_t>{1}));
}

TEST(ResizeNearest, TwoDimensionsAndThreeChannels) {
  // 2x2 -> 3x3 with align_corners: sources round(0, 0.5, 1) = 0, 1, 1 on both axes.
  const Image image = make_image(2, 2, 3, {1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4});
  const Image out = resize_nearest(image, 3, 3, true);
  std::vector<uint8_t> firsts;
  for (int i = 0; i < 9; ++i) firsts.push_back(out.pixels[i * 3]);
  EXPECT_EQ(firsts, (std::vector<uint8_t>{1, 2, 2, 3, 4, 4, 3, 4, 4}));
}

TEST(ResizeNearest, IdentityAndLabelValuesOnly) {
  std::mt19937 rng(3);
  const Image labels = random_image(9, 6, 1, rng);
  EXPECT_EQ(resize_nearest(labels, 9, 6, true).pixels, labels.pixels);
  EXPECT_EQ(resize_nearest(labels, 9, 6, false).pixels, labels.pixels);
  const Image big = resize_nearest(labels, 31, 17, true);
  for (uint8_t v : big.pixels) {
    EXPECT_NE(std::find(labels.pixels.begin(), labels.pixels.end(), v), labels.pixels.end());
  }
}

TEST(PadAndCrop, PadFillsBottomAndRight) {
  const Image image = make_image(2, 1, 3, {1, 2, 3, 4, 5, 6});
  const std::array<uint8_t, 3> fill = {7, 8, 9};
  const Image out = pad_bottom_right(image, 3, 2, fill);
  EXPECT_EQ(out.pixels,
            (std::vector<uint8_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 7, 8, 9, 7, 8, 9, 7, 8, 9}));
  const std::array<uint8_t, 1> one = {128};
  EXPECT_EQ(pad_bottom_right(image, 2, 2, one).pixels,
            (std::vector<uint8_t>{1, 2, 3, 4, 5, 6, 128, 128, 128, 128, 128, 128}));
}

TEST(PadAndCrop, CropOfPadIsIdentity) {
  std::mt19937 rng(5);
  for (int channels : {1, 3}) {
    const Image image = random_image(13, 7, channels, rng);
    const std::array<uint8_t, 3> fill = {1, 2, 3};
    const Image padded = pad_bottom_right(image, 20, 16, std::span(fill).first(channels));
    ASSERT_EQ(padded.width, 20);
    const Image back = crop(padded, 0, 0, 13, 7);
    EXPECT_EQ(back.pixels, image.pixels);
    EXPECT_EQ(back.width, 13);
    EXPECT_EQ(back.height, 7);
  }
}

TEST(PadAndCrop, CropTakesTheRectangle) {
  const Image image = make_image(3, 3, 1, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  EXPECT_EQ(crop(image, 1, 1, 2, 2).pixels, (std::vector<uint8_t>{5, 6, 8, 9}));
  EXPECT_EQ(crop(image, 2, 0, 1, 3).pixels, (std::vector<uint8_t>{3, 6, 9}));
}

TEST(PadAndCrop, InvalidArgumentsGiveAnEmptyImage) {
  const Image image(3, 3, 1);
  const std::array<uint8_t, 2> two = {0, 0};
  EXPECT_TRUE(crop(image, 2, 0, 2, 1).empty());
  EXPECT_TRUE(crop(image, -1, 0, 1, 1).empty());
  EXPECT_TRUE(crop(image, 0, 0, 0, 1).empty());
  EXPECT_TRUE(pad_bottom_right(image, 2, 3, std::span<const uint8_t>()).empty());
  EXPECT_TRUE(pad_bottom_right(Image(3, 3, 3), 4, 4, two).empty());
}

// The MATLAB VOCdevkit construction (VOClabelcolormap.m), written independently.
std::array<uint8_t, 3> devkit_color(int index) {
  int r = 0, g = 0, b = 0, id = index;
  for (int j = 0; j <= 7; ++j) {
    auto bitget = [](int value, int bit) { return (value >> bit) & 1; };
    r |= bitget(id, 0) << (7 - j);
    g |= bitget(id, 1) << (7 - j);
    b |= bitget(id, 2) << (7 - j);
    id >>= 3;
  }
  return {uint8_t(r), uint8_t(g), uint8_t(b)};
}

TEST(VocColormap, KnownEntries) {
  const ColorMap& map = voc_colormap();
  using C = std::array<uint8_t, 3>;
  EXPECT_EQ(map[0], (C{0, 0, 0}));
  EXPECT_EQ(map[1], (C{128, 0, 0}));
  EXPECT_EQ(map[2], (C{0, 128, 0}));
  EXPECT_EQ(map[3], (C{128, 128, 0}));
  EXPECT_EQ(map[15], (C{192, 128, 128}));  // person
  EXPECT_EQ(map[20], (C{0, 64, 128}));     // tvmonitor
  EXPECT_EQ(map[255], (C{224, 224, 192}));
  for (int i = 0; i < 256; ++i) EXPECT_EQ(map[i], devkit_color(i)) << i;
}

TEST(Colorize, MapsThroughTheColormap) {
  const Image labels = make_image(3, 1, 1, {0, 15, 255});
  const Image out = colorize_labels(labels);
  EXPECT_EQ(out.channels, 3);
  EXPECT_EQ(out.pixels, (std::vector<uint8_t>{0, 0, 0, 192, 128, 128, 224, 224, 192}));
  EXPECT_TRUE(colorize_labels(Image(2, 2, 3)).empty());
}

TEST(Overlay, BlendsOnlyObjectClasses) {
  const Image photo =
      make_image(4, 1, 3, {100, 100, 100, 100, 100, 100, 100, 100, 100, 10, 20, 30});
  const Image labels = make_image(4, 1, 1, {0, 1, 255, 15});
  const Image half = overlay(photo, labels, 0.5f);
  // Class 1 is (128,0,0): (100+128)/2 = 114, 50, 50; class 15 is (192,128,128): 101, 74, 79.
  EXPECT_EQ(half.pixels,
            (std::vector<uint8_t>{100, 100, 100, 114, 50, 50, 100, 100, 100, 101, 74, 79}));
  EXPECT_EQ(overlay(photo, labels, 0.0f).pixels, photo.pixels);
  const Image full = overlay(photo, labels, 7.0f);  // clamped to 1
  EXPECT_EQ(full.pixels,
            (std::vector<uint8_t>{100, 100, 100, 128, 0, 0, 100, 100, 100, 192, 128, 128}));
}

TEST(Overlay, GrayPhotoAndMismatchedSizes) {
  const Image gray = make_image(2, 1, 1, {50, 60});
  const Image labels = make_image(2, 1, 1, {0, 2});
  EXPECT_EQ(overlay(gray, labels, 1.0f).pixels, (std::vector<uint8_t>{50, 50, 50, 0, 128, 0}));
  EXPECT_TRUE(overlay(gray, Image(3, 1, 1), 0.5f).empty());
}

}  // namespace
}  // namespace qseg

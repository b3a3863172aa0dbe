// PNG decoding of files built by the test: gray, palette (with tRNS), RGBA, gray+alpha, 16-bit
// and low bit depths, as photos and as label maps.
#include <gtest/gtest.h>

#include "fixture_encoders.h"
#include "imgproc/image_io.h"

namespace qseg {
namespace {

using test::make_png;
using test::PngSpec;

Result<Image> decode(const std::vector<uint8_t>& bytes) { return decode_image(bytes, "t.png"); }
Result<Image> decode_labels(const std::vector<uint8_t>& bytes) {
  return decode_label_image(bytes, "t.png");
}

TEST(Png, EightBitGray) {
  const PngSpec spec{
      .width = 3, .height = 2, .bit_depth = 8, .color_type = 0, .rows = {{0, 100, 255}, {1, 2, 3}}};
  Result<Image> rgb = decode(make_png(spec));
  ASSERT_TRUE(rgb.is_ok()) << rgb.status().message();
  EXPECT_EQ(rgb->channels, 3);
  EXPECT_EQ(rgb->pixels, (std::vector<uint8_t>{0, 0, 0, 100, 100, 100, 255, 255, 255,  //
                                               1, 1, 1, 2, 2, 2, 3, 3, 3}));
  Result<Image> labels = decode_labels(make_png(spec));
  ASSERT_TRUE(labels.is_ok()) << labels.status().message();
  EXPECT_EQ(labels->channels, 1);
  EXPECT_EQ(labels->pixels, (std::vector<uint8_t>{0, 100, 255, 1, 2, 3}));
}

TEST(Png, LowBitDepthGrayIsScaledAsPhotoButRawAsLabels) {
  const PngSpec spec{.width = 4,
                     .height = 1,
                     .bit_depth = 2,
                     .color_type = 0,
                     .rows = {{0b00011011}}};  // 0, 1, 2, 3
  EXPECT_EQ(decode(make_png(spec))->pixels,
            (std::vector<uint8_t>{0, 0, 0, 85, 85, 85, 170, 170, 170, 255, 255, 255}));
  EXPECT_EQ(decode_labels(make_png(spec))->pixels, (std::vector<uint8_t>{0, 1, 2, 3}));
}

TEST(Png, PaletteGivesColorsOrRawIndices) {
  PngSpec spec{.width = 3,
               .height = 1,
               .bit_depth = 8,
               .color_type = 3,
               .palette = {{0, 0, 0}, {128, 0, 0}, {1, 2, 3}},
               .rows = {{2, 0, 1}}};
  Result<Image> rgb = decode(make_png(spec));
  ASSERT_TRUE(rgb.is_ok()) << rgb.status().message();
  EXPECT_EQ(rgb->pixels, (std::vector<uint8_t>{1, 2, 3, 0, 0, 0, 128, 0, 0}));
  Result<Image> labels = decode_labels(make_png(spec));
  ASSERT_TRUE(labels.is_ok()) << labels.status().message();
  EXPECT_EQ(labels->pixels, (std::vector<uint8_t>{2, 0, 1}));

  // A tRNS chunk (palette alpha) changes nothing: alpha is dropped.
  spec.transparency = {0, 128};
  Result<Image> with_alpha = decode(make_png(spec));
  ASSERT_TRUE(with_alpha.is_ok()) << with_alpha.status().message();
  EXPECT_EQ(with_alpha->pixels, rgb->pixels);
  EXPECT_EQ(decode_labels(make_png(spec))->pixels, labels->pixels);
}

TEST(Png, FourBitPaletteIndices) {
  PngSpec spec{.width = 3, .height = 1, .bit_depth = 4, .color_type = 3, .rows = {{0x5F, 0x20}}};
  for (int i = 0; i < 16; ++i) spec.palette.push_back({uint8_t(i), uint8_t(i), uint8_t(i)});
  Result<Image> labels = decode_labels(make_png(spec));
  ASSERT_TRUE(labels.is_ok()) << labels.status().message();
  EXPECT_EQ(labels->pixels, (std::vector<uint8_t>{5, 15, 2}));
}

TEST(Png, RgbaAndGrayAlphaDropAlpha) {
  const PngSpec rgba{.width = 2,
                     .height = 1,
                     .bit_depth = 8,
                     .color_type = 6,
                     .rows = {{10, 20, 30, 0, 40, 50, 60, 255}}};
  Result<Image> rgb = decode(make_png(rgba));
  ASSERT_TRUE(rgb.is_ok()) << rgb.status().message();
  EXPECT_EQ(rgb->pixels, (std::vector<uint8_t>{10, 20, 30, 40, 50, 60}));

  const PngSpec gray_alpha{
      .width = 2, .height = 1, .bit_depth = 8, .color_type = 4, .rows = {{7, 0, 9, 255}}};
  Result<Image> gray = decode(make_png(gray_alpha));
  ASSERT_TRUE(gray.is_ok()) << gray.status().message();
  EXPECT_EQ(gray->pixels, (std::vector<uint8_t>{7, 7, 7, 9, 9, 9}));

  Result<Image> as_labels = decode_labels(make_png(gray_alpha));
  ASSERT_FALSE(as_labels.is_ok());
  EXPECT_EQ(as_labels.status().message(),
            "t.png: label image must be palette or 8-bit gray, got 8-bit gray+alpha PNG");
}

TEST(Png, SixteenBitIsReducedToEightWithRounding) {
  // Big-endian samples: 0xFFFF -> 255, 0x0000 -> 0, 0x8080 -> 128, 0x807F -> 128 (rounded).
  const PngSpec rgb16{.width = 2,
                      .height = 1,
                      .bit_depth = 16,
                      .color_type = 2,
                      .rows = {{0xFF, 0xFF, 0x00, 0x00, 0x80, 0x80,  //
                                0x12, 0x34, 0x80, 0x7F, 0x00, 0x81}}};
  Result<Image> rgb = decode(make_png(rgb16));
  ASSERT_TRUE(rgb.is_ok()) << rgb.status().message();
  // v * 255 / 65535 rounded: 0x1234 = 4660 -> 18.13 -> 18; 0x0081 = 129 -> 0.5 -> 1 or 0.
  EXPECT_EQ(rgb->pixels[0], 255);
  EXPECT_EQ(rgb->pixels[1], 0);
  EXPECT_EQ(rgb->pixels[2], 128);
  EXPECT_EQ(rgb->pixels[3], 18);
  EXPECT_EQ(rgb->pixels[4], 128);
  EXPECT_LE(rgb->pixels[5], 1);

  const PngSpec gray16{
      .width = 1, .height = 1, .bit_depth = 16, .color_type = 0, .rows = {{0xAB, 0xCD}}};
  Result<Image> gray = decode(make_png(gray16));
  ASSERT_TRUE(gray.is_ok()) << gray.status().message();
  EXPECT_EQ(gray->pixels, (std::vector<uint8_t>{0xAB, 0xAB, 0xAB}));  // 43981/257 = 171.1
  Result<Image> as_labels = decode_labels(make_png(gray16));
  ASSERT_FALSE(as_labels.is_ok());
  EXPECT_NE(as_labels.status().message().find("got 16-bit gray PNG"), std::string::npos);
}

TEST(PngErrors, HugeDeclaredDimensionsFailBeforeDecoding) {
  const PngSpec spec{
      .width = 100000, .height = 100000, .bit_depth = 8, .color_type = 0, .rows = {{0}}};
  Result<Image> image = decode(make_png(spec));
  ASSERT_FALSE(image.is_ok());
  EXPECT_EQ(image.status().message(),
            "t.png: PNG dimensions 100000x100000 exceed the limit of 65535 pixels per side");
  const PngSpec too_many{
      .width = 60000, .height = 60000, .bit_depth = 8, .color_type = 0, .rows = {{0}}};
  EXPECT_FALSE(decode(make_png(too_many)).is_ok());
}

TEST(PngErrors, TooLittleImageDataIsAnError) {
  // The header says 2 rows, the data holds 1.
  const PngSpec spec{.width = 3, .height = 2, .bit_depth = 8, .color_type = 0, .rows = {{1, 2, 3}}};
  Result<Image> image = decode(make_png(spec));
  ASSERT_FALSE(image.is_ok());
  EXPECT_EQ(image.status().message().rfind("t.png: ", 0), 0u);
}

TEST(PngErrors, BadCrcAndBadHeader) {
  const PngSpec spec{.width = 3, .height = 1, .bit_depth = 8, .color_type = 0, .rows = {{1, 2, 3}}};
  std::vector<uint8_t> bytes = make_png(spec);
  bytes[8 + 8 + 13] ^= 1;  // the IHDR CRC
  Result<Image> crc = decode(bytes);
  ASSERT_FALSE(crc.is_ok());
  EXPECT_NE(crc.status().message().find("corrupt PNG"), std::string::npos)
      << crc.status().message();

  PngSpec bad_depth = spec;
  bad_depth.bit_depth = 3;
  EXPECT_FALSE(decode(make_png(bad_depth)).is_ok());
  PngSpec no_palette = spec;
  no_palette.color_type = 3;
  EXPECT_FALSE(decode(make_png(no_palette)).is_ok());
}

TEST(PngErrors, TruncatedAtEveryLength) {
  PngSpec spec{
      .width = 5, .height = 3, .bit_depth = 8, .color_type = 3, .palette = {{0, 0, 0}, {9, 9, 9}}};
  spec.rows.assign(3, {0, 1, 0, 1, 1});
  const std::vector<uint8_t> good = make_png(spec);
  ASSERT_TRUE(decode(good).is_ok());
  for (size_t length = 1; length < good.size(); ++length) {
    const std::vector<uint8_t> cut(good.begin(), good.begin() + length);
    EXPECT_FALSE(decode(cut).is_ok()) << length;
    EXPECT_FALSE(decode_labels(cut).is_ok()) << length;
  }
}

TEST(Png, LabelValuesUpToSixteenBits) {
  // 16-bit gray: the values as stored (big-endian), none rounded.
  const PngSpec gray16{.width = 3,
                       .height = 1,
                       .bit_depth = 16,
                       .color_type = 0,
                       .rows = {{0x00, 0x07, 0x12, 0x34, 0xFF, 0xFF}}};
  Result<LabelValues> wide = decode_label_values(make_png(gray16), "t.png");
  ASSERT_TRUE(wide.is_ok()) << wide.status().message();
  EXPECT_EQ(wide->width, 3);
  EXPECT_EQ(wide->height, 1);
  EXPECT_EQ(wide->values, (std::vector<uint16_t>{7, 0x1234, 0xFFFF}));
  // decode_label_image keeps refusing them (class ids are bytes).
  EXPECT_FALSE(decode_labels(make_png(gray16)).is_ok());
  // 8-bit gray and palette indices come back as they are.
  const PngSpec gray8{.width = 2, .height = 1, .bit_depth = 8, .color_type = 0, .rows = {{3, 255}}};
  Result<LabelValues> narrow = decode_label_values(make_png(gray8), "t.png");
  ASSERT_TRUE(narrow.is_ok());
  EXPECT_EQ(narrow->values, (std::vector<uint16_t>{3, 255}));
  const PngSpec indexed{.width = 2,
                        .height = 1,
                        .bit_depth = 8,
                        .color_type = 3,
                        .palette = {{1, 2, 3}, {4, 5, 6}},
                        .rows = {{1, 0}}};
  Result<LabelValues> palette = decode_label_values(make_png(indexed), "t.png");
  ASSERT_TRUE(palette.is_ok());
  EXPECT_EQ(palette->values, (std::vector<uint16_t>{1, 0}));
  // Other forms are named.
  const PngSpec rgb{.width = 1, .height = 1, .bit_depth = 8, .color_type = 2, .rows = {{1, 2, 3}}};
  Result<LabelValues> refused = decode_label_values(make_png(rgb), "t.png");
  ASSERT_FALSE(refused.is_ok());
  EXPECT_EQ(refused.status().message(),
            "t.png: label image must be palette, 8-bit or 16-bit gray, got 8-bit RGB PNG");
}

}  // namespace
}  // namespace qseg

// BMP decoding of files built by the test (palette, 24-bit, 32-bit, bit fields, top-down) and
// rejection of malformed headers.
#include <gtest/gtest.h>

#include <chrono>

#include "fixture_encoders.h"
#include "imgproc/image_io.h"

namespace qseg {
namespace {

using test::BmpSpec;
using test::make_bmp;

Result<Image> decode(const std::vector<uint8_t>& bytes) { return decode_image(bytes, "t.bmp"); }
Result<Image> decode_labels(const std::vector<uint8_t>& bytes) {
  return decode_label_image(bytes, "t.bmp");
}

// A 3x2 RGB test pattern, top row first, and the same pattern as packed BMP rows.
const std::vector<uint8_t> kPattern = {255, 0,  0,  0,  255, 0,  0,  0,  255,
                                       10,  20, 30, 40, 50,  60, 70, 80, 90};

std::vector<std::vector<uint8_t>> pattern_rows(int bytes_per_pixel) {
  std::vector<std::vector<uint8_t>> rows(2);
  for (int y = 0; y < 2; ++y) {
    for (int x = 0; x < 3; ++x) {
      const uint8_t* rgb = &kPattern[(y * 3 + x) * 3];
      rows[y].insert(rows[y].end(), {rgb[2], rgb[1], rgb[0]});
      if (bytes_per_pixel == 4) rows[y].push_back(0xAB);  // alpha / unused, ignored
    }
  }
  return rows;
}

TEST(Bmp, TwentyFourBitBottomUpAndTopDown) {
  for (int32_t height : {2, -2}) {
    BmpSpec spec{.width = 3, .height = height, .bits_per_pixel = 24};
    spec.rows = pattern_rows(3);
    Result<Image> image = decode(make_bmp(spec));
    ASSERT_TRUE(image.is_ok()) << image.status().message();
    EXPECT_EQ(image->width, 3);
    EXPECT_EQ(image->height, 2);
    EXPECT_EQ(image->pixels, kPattern) << "height " << height;
  }
}

TEST(Bmp, CoreHeaderAndV5Header) {
  for (uint32_t header_size : {12u, 108u, 124u}) {
    BmpSpec spec{.width = 3, .height = 2, .bits_per_pixel = 24, .header_size = header_size};
    spec.rows = pattern_rows(3);
    Result<Image> image = decode(make_bmp(spec));
    ASSERT_TRUE(image.is_ok()) << image.status().message();
    EXPECT_EQ(image->pixels, kPattern) << header_size;
  }
}

TEST(Bmp, UnpaddedLastRowIsAccepted) {
  BmpSpec spec{.width = 3, .height = 2, .bits_per_pixel = 24, .pad_last_row = false};
  spec.rows = pattern_rows(3);
  Result<Image> image = decode(make_bmp(spec));
  ASSERT_TRUE(image.is_ok()) << image.status().message();
  EXPECT_EQ(image->pixels, kPattern);
}

TEST(Bmp, ThirtyTwoBitRgbAndBitfields) {
  BmpSpec spec{.width = 3, .height = -2, .bits_per_pixel = 32};
  spec.rows = pattern_rows(4);
  Result<Image> plain = decode(make_bmp(spec));
  ASSERT_TRUE(plain.is_ok()) << plain.status().message();
  EXPECT_EQ(plain->pixels, kPattern);

  // BI_BITFIELDS with the masks after a 40-byte header, and inside a V5 header.
  for (uint32_t header_size : {40u, 124u}) {
    spec.header_size = header_size;
    spec.compression = 3;
    spec.masks = {0x00FF0000, 0x0000FF00, 0x000000FF};
    Result<Image> fields = decode(make_bmp(spec));
    ASSERT_TRUE(fields.is_ok()) << fields.status().message();
    EXPECT_EQ(fields->pixels, kPattern) << header_size;
  }
  // Masks in another order: R in the low byte (stored as R, G, B, A).
  spec.masks = {0x000000FF, 0x0000FF00, 0x00FF0000};
  for (auto& row : spec.rows) {
    for (size_t i = 0; i < row.size(); i += 4) std::swap(row[i], row[i + 2]);
  }
  Result<Image> swapped = decode(make_bmp(spec));
  ASSERT_TRUE(swapped.is_ok()) << swapped.status().message();
  EXPECT_EQ(swapped->pixels, kPattern);
}

TEST(Bmp, SixteenBit555And565) {
  // One pixel each: white in 5-5-5 (BI_RGB) and pure green 6 bits in 5-6-5 (BI_BITFIELDS).
  BmpSpec spec{.width = 2, .height = 1, .bits_per_pixel = 16};
  spec.rows = {{0xFF, 0x7F, 0x10, 0x42}};  // 0x7FFF, 0x4210 = (16, 16, 16) of 31
  Result<Image> rgb555 = decode(make_bmp(spec));
  ASSERT_TRUE(rgb555.is_ok()) << rgb555.status().message();
  // 16 of 31 -> round(16 * 255 / 31) = 132.
  EXPECT_EQ(rgb555->pixels, (std::vector<uint8_t>{255, 255, 255, 132, 132, 132}));

  spec.compression = 3;
  spec.masks = {0xF800, 0x07E0, 0x001F};
  spec.rows = {{0xE0, 0x07, 0x1F, 0xF8}};  // 0x07E0 green, 0xF81F magenta
  Result<Image> rgb565 = decode(make_bmp(spec));
  ASSERT_TRUE(rgb565.is_ok()) << rgb565.status().message();
  EXPECT_EQ(rgb565->pixels, (std::vector<uint8_t>{0, 255, 0, 255, 0, 255}));
}

TEST(Bmp, EightBitPaletteGivesColorsOrIndices) {
  BmpSpec spec{.width = 3, .height = 2, .bits_per_pixel = 8};
  spec.palette_bgr = {{0, 0, 0}, {30, 20, 10}, {0, 0, 255}, {255, 0, 0}};
  spec.colors_used = 4;
  spec.rows = {{0, 1, 2}, {3, 2, 1}};
  const std::vector<uint8_t> bmp = make_bmp(spec);
  Result<Image> rgb = decode(bmp);
  ASSERT_TRUE(rgb.is_ok()) << rgb.status().message();
  EXPECT_EQ(rgb->pixels, (std::vector<uint8_t>{0, 0, 0, 10, 20, 30, 255, 0, 0,  //
                                               0, 0, 255, 255, 0, 0, 10, 20, 30}));
  Result<Image> labels = decode_labels(bmp);
  ASSERT_TRUE(labels.is_ok()) << labels.status().message();
  EXPECT_EQ(labels->channels, 1);
  EXPECT_EQ(labels->pixels, (std::vector<uint8_t>{0, 1, 2, 3, 2, 1}));
}

TEST(Bmp, IndexBeyondThePaletteIsBlackAsColorAndKeptAsLabel) {
  BmpSpec spec{.width = 2, .height = 1, .bits_per_pixel = 8};
  spec.palette_bgr = {{9, 9, 9}, {8, 8, 8}};
  spec.colors_used = 2;
  spec.rows = {{1, 200}};
  Result<Image> rgb = decode(make_bmp(spec));
  ASSERT_TRUE(rgb.is_ok()) << rgb.status().message();
  EXPECT_EQ(rgb->pixels, (std::vector<uint8_t>{8, 8, 8, 0, 0, 0}));
  EXPECT_EQ(decode_labels(make_bmp(spec))->pixels, (std::vector<uint8_t>{1, 200}));
}

TEST(Bmp, OneAndFourBitPalettes) {
  BmpSpec four{.width = 3, .height = 1, .bits_per_pixel = 4};
  four.palette_bgr.resize(16);
  for (int i = 0; i < 16; ++i) four.palette_bgr[i] = {uint8_t(i), uint8_t(i * 2), uint8_t(i * 3)};
  four.rows = {{0x5F, 0x20}};  // 5, 15, 2
  Result<Image> labels = decode_labels(make_bmp(four));
  ASSERT_TRUE(labels.is_ok()) << labels.status().message();
  EXPECT_EQ(labels->pixels, (std::vector<uint8_t>{5, 15, 2}));
  EXPECT_EQ(decode(make_bmp(four))->pixels, (std::vector<uint8_t>{15, 10, 5, 45, 30, 15, 6, 4, 2}));

  BmpSpec one{.width = 10, .height = 1, .bits_per_pixel = 1};
  one.palette_bgr = {{0, 0, 0}, {255, 255, 255}};
  one.rows = {{0b10110000, 0b01000000}};
  EXPECT_EQ(decode_labels(make_bmp(one))->pixels,
            (std::vector<uint8_t>{1, 0, 1, 1, 0, 0, 0, 0, 0, 1}));
}

TEST(Bmp, LabelsFromTwentyFourBitAreRejected) {
  BmpSpec spec{.width = 3, .height = 2, .bits_per_pixel = 24};
  spec.rows = pattern_rows(3);
  Result<Image> labels = decode_labels(make_bmp(spec));
  ASSERT_FALSE(labels.is_ok());
  EXPECT_EQ(labels.status().message(),
            "t.bmp: label image must be palette or 8-bit gray, got 24-bit BMP");
}

BmpSpec valid_palette_bmp() {
  BmpSpec spec{.width = 4, .height = 2, .bits_per_pixel = 8};
  spec.palette_bgr = {{0, 0, 0}, {1, 1, 1}};
  spec.colors_used = 2;
  spec.rows = {{0, 1, 0, 1}, {1, 0, 1, 0}};
  return spec;
}

void expect_error(const std::vector<uint8_t>& bytes, const std::string& fragment) {
  Result<Image> image = decode(bytes);
  ASSERT_FALSE(image.is_ok()) << "expected an error containing '" << fragment << "'";
  EXPECT_NE(image.status().message().find(fragment), std::string::npos) << image.status().message();
  EXPECT_EQ(image.status().message().rfind("t.bmp: ", 0), 0u) << image.status().message();
}

TEST(BmpErrors, HugeDeclaredDimensionsFailFast) {
  BmpSpec spec = valid_palette_bmp();
  std::vector<uint8_t> bytes = make_bmp(spec);
  test::set_u32le(bytes, 18, 100000);
  test::set_u32le(bytes, 22, 100000);
  const auto start = std::chrono::steady_clock::now();
  expect_error(bytes, "exceed the limit");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(100));
  // Within the per-side limit but over the default pixel limit in total.
  test::set_u32le(bytes, 18, 60000);
  test::set_u32le(bytes, 22, 60000);
  expect_error(bytes, "exceed the limit of 67108864 pixels");
  // INT32_MIN height (top-down) must not overflow.
  test::set_u32le(bytes, 22, 0x80000000u);
  expect_error(bytes, "exceed");
  // Within limits but far bigger than the file: truncated, never allocated.
  test::set_u32le(bytes, 18, 8000);
  test::set_u32le(bytes, 22, 8000);
  expect_error(bytes, "truncated BMP");
}

TEST(BmpErrors, CustomLimits) {
  std::vector<uint8_t> bytes = make_bmp(valid_palette_bmp());
  ImageLimits limits;
  limits.max_side = 3;
  Result<Image> image = decode_image(bytes, "t.bmp", limits);
  ASSERT_FALSE(image.is_ok());
  EXPECT_EQ(image.status().message(),
            "t.bmp: BMP dimensions 4x2 exceed the limit of 3 pixels per side");
  limits = ImageLimits{.max_pixels = 7};
  EXPECT_FALSE(decode_image(bytes, "t.bmp", limits).is_ok());
  limits = ImageLimits{.max_pixels = 8};
  EXPECT_TRUE(decode_image(bytes, "t.bmp", limits).is_ok());
}

TEST(BmpErrors, BadHeaderFields) {
  const std::vector<uint8_t> good = make_bmp(valid_palette_bmp());
  ASSERT_TRUE(decode(good).is_ok());

  std::vector<uint8_t> bytes = good;
  test::set_u32le(bytes, 10, static_cast<uint32_t>(good.size() + 10));  // offset past the end
  expect_error(bytes, "past the end of the file");

  bytes = good;
  test::set_u32le(bytes, 10, 0xFFFFFFFFu);
  expect_error(bytes, "past the end of the file");

  bytes = good;
  test::set_u32le(bytes, 10, 20);  // inside the header
  expect_error(bytes, "overlaps the headers");

  bytes = good;
  test::set_u32le(bytes, 18, static_cast<uint32_t>(-4));  // negative width
  expect_error(bytes, "invalid dimensions -4x2");

  bytes = good;
  test::set_u32le(bytes, 22, 0);
  expect_error(bytes, "invalid dimensions 4x0");

  bytes = good;
  test::set_u32le(bytes, 14, 1000);  // header size
  expect_error(bytes, "unsupported BMP header size 1000");

  bytes = good;
  test::set_u32le(bytes, 46, 300);  // colours used > 256
  expect_error(bytes, "palette has 300 colours");

  bytes = good;
  test::set_u32le(bytes, 46, 200);  // fits the depth but not before the pixel data
  expect_error(bytes, "overlaps the pixel data");

  bytes = good;
  bytes[28] = 7;  // bits per pixel
  expect_error(bytes, "unsupported BMP depth");

  bytes = good;
  bytes[30] = 1;  // RLE8
  expect_error(bytes, "RLE");

  bytes = good;
  bytes[30] = 3;  // bit fields on 8 bits
  expect_error(bytes, "bit fields need 16 or 32");

  bytes = good;
  bytes[30] = 99;
  expect_error(bytes, "invalid BMP compression 99");
}

TEST(BmpErrors, BadBitfieldMasks) {
  BmpSpec spec{.width = 3, .height = 2, .bits_per_pixel = 32, .compression = 3};
  spec.rows = pattern_rows(4);
  spec.masks = {0x00FF0000, 0, 0x000000FF};
  expect_error(make_bmp(spec), "invalid BMP bit field mask 0");
  spec.masks = {0x00F0F000, 0x0000FF00, 0x000000FF};
  expect_error(make_bmp(spec), "invalid BMP bit field mask");
}

TEST(BmpErrors, TruncatedAtEveryLength) {
  const std::vector<uint8_t> good = make_bmp(valid_palette_bmp());
  for (size_t length = 1; length < good.size(); ++length) {
    const std::vector<uint8_t> cut(good.begin(), good.begin() + length);
    EXPECT_FALSE(decode(cut).is_ok()) << length;
  }
}

}  // namespace
}  // namespace qseg

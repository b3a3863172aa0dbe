// WebP photos (libwebp): lossless files decode exactly, lossy ones close to what was encoded,
// alpha is dropped, and broken, animated, oversized or label-map uses are one error line.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <random>

#include "imgproc/image_io.h"
#include "imgproc/webp_fixture.h"

namespace qseg {
namespace {

Image random_photo(int width, int height, uint32_t seed) {
  Image image(width, height, 3);
  std::mt19937 rng(seed);
  // Smooth gradients with some noise: lossy WebP's blocks then keep the values close.
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      for (int c = 0; c < 3; ++c) {
        const int value = x + y + c * 50 + static_cast<int>(rng() % 4);
        image.row(y)[x * 3 + c] = static_cast<uint8_t>(std::min(value, 255));
      }
    }
  }
  return image;
}

TEST(Webp, LosslessDecodesExactly) {
  for (const auto& [width, height] : {std::pair{1, 1}, std::pair{37, 23}, std::pair{64, 3}}) {
    const Image photo = random_photo(width, height, 7);
    const std::vector<uint8_t> bytes = test::encode_webp(photo, /*lossless=*/true);
    ASSERT_FALSE(bytes.empty());
    EXPECT_EQ(detect_image_format(bytes), ImageFormat::kWebp);
    Result<Image> decoded = decode_image(bytes, "p.webp");
    ASSERT_TRUE(decoded.is_ok()) << decoded.status().message();
    EXPECT_EQ(decoded->width, width);
    EXPECT_EQ(decoded->height, height);
    EXPECT_EQ(decoded->channels, 3);
    EXPECT_EQ(decoded->pixels, photo.pixels) << width << "x" << height;
  }
}

TEST(Webp, LossyDecodesCloseToTheOriginal) {
  const Image photo = random_photo(96, 64, 11);
  const std::vector<uint8_t> bytes = test::encode_webp(photo, /*lossless=*/false, 95);
  ASSERT_FALSE(bytes.empty());
  Result<Image> decoded = decode_image(bytes, "p.webp");
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().message();
  ASSERT_EQ(decoded->pixels.size(), photo.pixels.size());
  double total = 0;
  for (size_t i = 0; i < photo.pixels.size(); ++i) {
    total += std::abs(int{decoded->pixels[i]} - int{photo.pixels[i]});
  }
  // 4:2:0 chroma and quantization: a few levels on average; channels swapped would be ~50.
  EXPECT_LT(total / photo.pixels.size(), 8.0);
}

TEST(Webp, AlphaIsDroppedAndTheColourKept) {
  const int width = 9, height = 5;
  std::vector<uint8_t> rgba(width * height * 4);
  for (size_t i = 0; i < rgba.size(); ++i) rgba[i] = static_cast<uint8_t>(i * 29);
  for (size_t i = 3; i < rgba.size(); i += 4) rgba[i] = 200;  // visible, so lossless keeps RGB
  const std::vector<uint8_t> bytes = test::encode_webp(rgba, width, height, 4, true);
  Result<Image> decoded = decode_image(bytes, "a.webp");
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().message();
  ASSERT_EQ(decoded->channels, 3);
  for (int p = 0; p < width * height; ++p) {
    for (int c = 0; c < 3; ++c) ASSERT_EQ(decoded->pixels[p * 3 + c], rgba[p * 4 + c]) << p;
  }
}

TEST(Webp, BrokenFilesAreOneErrorNeverACrash) {
  const std::vector<uint8_t> bytes = test::encode_webp(random_photo(40, 30, 3), false, 80);
  ASSERT_GT(bytes.size(), 60u);
  // Every prefix: an error (or, never, a crash); the header alone is "truncated".
  for (size_t size = 12; size < bytes.size(); ++size) {
    Result<Image> decoded = decode_image({bytes.data(), size}, "cut.webp");
    ASSERT_FALSE(decoded.is_ok()) << size;
    EXPECT_EQ(decoded.status().message().rfind("cut.webp: ", 0), 0u) << decoded.status().message();
  }
  EXPECT_EQ(decode_image({bytes.data(), 20}, "cut.webp").status().message(),
            "cut.webp: truncated WebP");
  // Bytes changed anywhere: decoded or refused, never a bad read (ASan's job).
  for (size_t at = 12; at < bytes.size(); at += 7) {
    std::vector<uint8_t> damaged = bytes;
    damaged[at] ^= 0x5A;
    (void)decode_image(damaged, "damaged.webp");
  }
}

TEST(Webp, AnimatedOversizedAndLabelUsesAreRefusedByName) {
  // An animated file's header: RIFF, WEBP, a VP8X chunk with the animation flag (bit 1), 2x2.
  std::vector<uint8_t> animated = {'R',  'I', 'F', 'F', 22,  0,   0,  0, 'W', 'E',
                                   'B',  'P', 'V', 'P', '8', 'X', 10, 0, 0,   0,
                                   0x02, 0,   0,   0,   1,   0,   0,  1, 0,   0};
  EXPECT_EQ(decode_image(animated, "anim.webp").status().message(),
            "anim.webp: animated WebP is not supported; export one frame as JPEG or PNG");

  const std::vector<uint8_t> bytes = test::encode_webp(random_photo(40, 30, 5), true);
  ImageLimits small;
  small.max_pixels = 1000;
  EXPECT_EQ(decode_image(bytes, "big.webp", small).status().message(),
            "big.webp: WebP dimensions 40x30 exceed the limit of 1000 pixels (qseg's "
            "--max-image-mp raises it)");
  EXPECT_EQ(decode_label_image(bytes, "label.webp").status().message(),
            "label.webp: label image must be palette or 8-bit gray, got WebP");
}

}  // namespace
}  // namespace qseg

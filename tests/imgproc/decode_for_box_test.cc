// Photos decoded only as far as a use needs (decode_photo_for_box): the DCT scale chosen for the
// box, the full displayed size kept beside the reduced pixels, EXIF turns on the reduced photo,
// and pixels that are the full decode's block averages but for rounding.
#include <gtest/gtest.h>

#include <cstdlib>

#include "imgproc/image_io.h"
#include "imgproc/io_internal.h"
#include "imgproc/jpeg_fixture.h"

namespace qseg {
namespace {

TEST(DecodeForBox, ScaleIsTheSmallestThatCoversThePhotoFittedIntoTheBox) {
  // stored width, height, EXIF orientation, box -> denominator
  EXPECT_EQ(io::jpeg_scale_denominator(4032, 3024, 1, 513, 513), 4);  // 1008x756 >= 513x385
  EXPECT_EQ(io::jpeg_scale_denominator(3024, 4032, 6, 513, 513), 4);  // shown 4032x3024
  EXPECT_EQ(io::jpeg_scale_denominator(3024, 4032, 1, 513, 513), 4);  // portrait 756x1008
  EXPECT_EQ(io::jpeg_scale_denominator(4104, 3078, 1, 513, 513), 8);  // exactly 8 x 513 wide
  EXPECT_EQ(io::jpeg_scale_denominator(4103, 3078, 1, 513, 513), 4);  // 513 would be 512.9
  EXPECT_EQ(io::jpeg_scale_denominator(1026, 770, 1, 513, 513), 2);
  EXPECT_EQ(io::jpeg_scale_denominator(1025, 770, 1, 513, 513), 1);
  EXPECT_EQ(io::jpeg_scale_denominator(500, 375, 1, 513, 513), 1);    // smaller than the box
  EXPECT_EQ(io::jpeg_scale_denominator(8000, 1000, 1, 513, 513), 8);  // panorama: fits 513x64
  EXPECT_EQ(io::jpeg_scale_denominator(4032, 3024, 1, 0, 0), 1);      // no box: full size
  // Whatever the sizes, the decoded sides cover the fitted ones.
  for (int width = 1; width < 5000; width += 37) {
    for (int height = 1; height < 5000; height += 41) {
      for (int box : {1, 97, 513}) {
        const int d = io::jpeg_scale_denominator(width, height, 1, box, box);
        const double s = std::min(1.0, std::min(double(box) / width, double(box) / height));
        ASSERT_GE((width + d - 1) / d, static_cast<int>(width * s)) << width << "x" << height;
        ASSERT_GE((height + d - 1) / d, static_cast<int>(height * s)) << width << "x" << height;
      }
    }
  }
}

// A smooth, textured photo, so that block averages and rounding stay close.
std::vector<uint8_t> photo_pixels(int width, int height) {
  std::vector<uint8_t> rgb(static_cast<size_t>(width) * height * 3);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      uint8_t* p = &rgb[(static_cast<size_t>(y) * width + x) * 3];
      p[0] = static_cast<uint8_t>(x * 200 / width + 20);
      p[1] = static_cast<uint8_t>(y * 200 / height + 20);
      p[2] = static_cast<uint8_t>(((x / 64 + y / 64) % 2) ? 200 : 60);
    }
  }
  return rgb;
}

// The mean absolute difference between `small` and the d x d block means of `full`.
double difference_from_block_means(const Image& full, const Image& small, int d) {
  double total = 0;
  for (int y = 0; y < small.height; ++y) {
    for (int x = 0; x < small.width; ++x) {
      for (int c = 0; c < 3; ++c) {
        int sum = 0, count = 0;
        for (int dy = 0; dy < d && y * d + dy < full.height; ++dy) {
          for (int dx = 0; dx < d && x * d + dx < full.width; ++dx, ++count) {
            sum += full.row(y * d + dy)[(x * d + dx) * 3 + c];
          }
        }
        total += std::abs(small.row(y)[x * 3 + c] - static_cast<double>(sum) / count);
      }
    }
  }
  return total / (static_cast<double>(small.width) * small.height * 3);
}

TEST(DecodeForBox, LargeJpegsDecodeReducedWithTheirFullSizeKept) {
  const int width = 2100, height = 1400;
  const std::vector<uint8_t> jpeg =
      test::encode_rgb_jpeg(photo_pixels(width, height), width, height);
  auto full = decode_image(jpeg, "p.jpg");
  auto photo = decode_photo_for_box(jpeg, "p.jpg", 513, 513);
  ASSERT_TRUE(full.is_ok() && photo.is_ok());
  EXPECT_EQ(photo->width, width);
  EXPECT_EQ(photo->height, height);
  EXPECT_TRUE(photo->reduced());
  EXPECT_EQ(photo->image.width, 525);  // 1/4: 2100 / 4 >= 513
  EXPECT_EQ(photo->image.height, 350);
  // Each reduced pixel is the colour of its 4x4 block (the edges of the checks blur a little).
  EXPECT_LT(difference_from_block_means(*full, photo->image, 4), 2.0);

  // No box, or a photo that already fits: the full decode, byte for byte.
  auto whole = decode_photo_for_box(jpeg, "p.jpg", 0, 0);
  ASSERT_TRUE(whole.is_ok());
  EXPECT_FALSE(whole->reduced());
  EXPECT_EQ(whole->image.pixels, full->pixels);
  auto fits = decode_photo_for_box(jpeg, "p.jpg", 2100, 2100);
  ASSERT_TRUE(fits.is_ok());
  EXPECT_EQ(fits->image.pixels, full->pixels);
}

TEST(DecodeForBox, SidewaysPhoneJpegsAreTurnedAfterTheReducedDecode) {
  // Stored 1400x2100 with orientation 6: shown 2100x1400.
  const int stored_width = 1400, stored_height = 2100;
  const std::vector<uint8_t> plain =
      test::encode_rgb_jpeg(photo_pixels(stored_width, stored_height), stored_width, stored_height);
  const std::vector<uint8_t> jpeg = test::with_segment(plain, test::exif_segment(6, false));
  auto full = decode_image(jpeg, "phone.jpg");
  auto photo = decode_photo_for_box(jpeg, "phone.jpg", 513, 513);
  ASSERT_TRUE(full.is_ok() && photo.is_ok());
  ASSERT_EQ(full->width, 2100);
  EXPECT_EQ(photo->width, 2100);
  EXPECT_EQ(photo->height, 1400);
  EXPECT_EQ(photo->image.width, 525);
  EXPECT_EQ(photo->image.height, 350);
  EXPECT_LT(difference_from_block_means(*full, photo->image, 4), 2.0);
}

TEST(DecodeForBox, OtherFormatsAndBadFilesAsDecodeImage) {
  Image png_photo(1200, 900, 3, 77);
  auto png = encode_png(png_photo, "p.png");
  ASSERT_TRUE(png.is_ok());
  auto photo = decode_photo_for_box(*png, "p.png", 513, 513);
  ASSERT_TRUE(photo.is_ok());
  EXPECT_FALSE(photo->reduced());
  EXPECT_EQ(photo->width, 1200);
  const std::vector<uint8_t> jpeg = test::encode_rgb_jpeg(photo_pixels(64, 64), 64, 64);
  for (size_t size : {size_t{3}, jpeg.size() / 2}) {
    auto cut = decode_photo_for_box({jpeg.data(), size}, "cut.jpg", 16, 16);
    ASSERT_FALSE(cut.is_ok());
    EXPECT_EQ(cut.status().message(),
              decode_image({jpeg.data(), size}, "cut.jpg").status().message());
  }
  ImageLimits small;
  small.max_pixels = 1000;
  EXPECT_FALSE(decode_photo_for_box(jpeg, "big.jpg", 16, 16, small).is_ok());  // limits: full size
}

}  // namespace
}  // namespace qseg

// EXIF orientation: JPEGs made here with each orientation 1..8 (both byte orders) decode to the
// photo as displayed; damaged EXIF is ignored, never an error, a crash or a read out of bounds.
#include <gtest/gtest.h>

#include <algorithm>

#include "imgproc/image_io.h"
#include "imgproc/io_internal.h"
#include "imgproc/jpeg_fixture.h"

namespace qseg {
namespace {

constexpr int kBlock = 8, kColumns = 3, kRows = 2;  // a 24x16 photo of six distinct blocks

std::vector<uint8_t> block_photo() {
  std::vector<uint8_t> rgb(kColumns * kBlock * kRows * kBlock * 3);
  for (int y = 0; y < kRows * kBlock; ++y) {
    for (int x = 0; x < kColumns * kBlock; ++x) {
      const int block = (y / kBlock) * kColumns + x / kBlock;
      uint8_t* p = &rgb[(static_cast<size_t>(y) * kColumns * kBlock + x) * 3];
      p[0] = static_cast<uint8_t>(40 * block);
      p[1] = static_cast<uint8_t>(255 - 40 * block);
      p[2] = static_cast<uint8_t>(block % 2 ? 200 : 30);
    }
  }
  return rgb;
}

// The primitives the EXIF specification words the orientations in.
Image mirror_left_right(const Image& in) {
  Image out(in.width, in.height, 3);
  for (int y = 0; y < in.height; ++y)
    for (int x = 0; x < in.width; ++x)
      for (int c = 0; c < 3; ++c) out.row(y)[x * 3 + c] = in.row(y)[(in.width - 1 - x) * 3 + c];
  return out;
}
Image rotate_clockwise(const Image& in) {  // the stored left column becomes the top row
  Image out(in.height, in.width, 3);
  for (int y = 0; y < in.height; ++y)
    for (int x = 0; x < in.width; ++x)
      for (int c = 0; c < 3; ++c) out.row(x)[(in.height - 1 - y) * 3 + c] = in.row(y)[x * 3 + c];
  return out;
}

// What each orientation's name says: 2 mirrored, 3 turned 180, 4 flipped, 5 mirrored and turned
// 270 clockwise, 6 turned 90 clockwise, 7 mirrored and turned 90, 8 turned 270.
Image displayed(const Image& stored, int orientation) {
  const auto turn = [](Image image, int quarters) {
    for (int i = 0; i < quarters; ++i) image = rotate_clockwise(image);
    return image;
  };
  switch (orientation) {
    case 2:
      return mirror_left_right(stored);
    case 3:
      return turn(stored, 2);
    case 4:
      return turn(mirror_left_right(stored), 2);
    case 5:
      return turn(mirror_left_right(stored), 3);
    case 6:
      return turn(stored, 1);
    case 7:
      return turn(mirror_left_right(stored), 1);
    case 8:
      return turn(stored, 3);
    default:
      return stored;
  }
}

const uint8_t* pixel(const Image& image, int x, int y) { return image.row(y) + x * 3; }

TEST(ExifOrientation, EveryOrientationInBothByteOrdersDecodesAsDisplayed) {
  const std::vector<uint8_t> plain =
      test::encode_rgb_jpeg(block_photo(), kColumns * kBlock, kRows * kBlock);
  Result<Image> stored = decode_image(plain, "plain.jpg");
  ASSERT_TRUE(stored.is_ok()) << stored.status().message();
  for (bool big_endian : {false, true}) {
    for (int orientation = 1; orientation <= 8; ++orientation) {
      SCOPED_TRACE(testing::Message()
                   << "orientation " << orientation << (big_endian ? " MM" : " II"));
      const auto bytes = test::with_segment(plain, test::exif_segment(orientation, big_endian));
      EXPECT_EQ(io::jpeg_exif_orientation(bytes), orientation);
      Result<Image> image = decode_image(bytes, "turned.jpg");
      ASSERT_TRUE(image.is_ok()) << image.status().message();
      const Image expected = displayed(stored.value(), orientation);
      ASSERT_EQ(image->width, expected.width);
      ASSERT_EQ(image->height, expected.height);
      EXPECT_EQ(image->pixels, expected.pixels);
    }
  }
  // By hand, for the phone held upright (6): the stored bottom-left block is shown top-left, and
  // the stored top-left block top-right.
  Result<Image> upright =
      decode_image(test::with_segment(plain, test::exif_segment(6, false)), "upright.jpg");
  ASSERT_TRUE(upright.is_ok());
  EXPECT_EQ(upright->width, kRows * kBlock);
  EXPECT_EQ(upright->height, kColumns * kBlock);
  EXPECT_TRUE(std::equal(pixel(*upright, 3, 3), pixel(*upright, 3, 3) + 3,
                         pixel(*stored, 3, kRows * kBlock - 4)));
  EXPECT_TRUE(std::equal(pixel(*upright, upright->width - 4, 3),
                         pixel(*upright, upright->width - 4, 3) + 3, pixel(*stored, 3, 3)));
}

TEST(ExifOrientation, DamagedExifIsIgnored) {
  const std::vector<uint8_t> plain =
      test::encode_rgb_jpeg(block_photo(), kColumns * kBlock, kRows * kBlock);
  Result<Image> stored = decode_image(plain, "plain.jpg");
  ASSERT_TRUE(stored.is_ok());
  const std::vector<uint8_t> good = test::exif_segment(6, false);
  // Offsets in the segment: 10 the TIFF header ("II", 42, IFD offset at 14), 18 the entry count,
  // 32 the orientation entry (tag, type at 34, count at 36, value at 40).
  struct Damage {
    const char* what;
    size_t at;
    std::vector<uint8_t> bytes;
  };
  const Damage damages[] = {
      {"byte order", 10, {'I', 'M'}},
      {"magic", 12, {43, 0}},
      {"IFD offset past the end", 14, {0xF0, 0xFF, 0xFF, 0xFF}},
      {"IFD offset at the last byte", 14, {37, 0, 0, 0}},
      {"entry count past the end", 18, {0xFF, 0xFF}},
      {"type LONG", 34, {4, 0}},
      {"two values", 36, {2, 0, 0, 0}},
      {"orientation 0", 40, {0, 0}},
      {"orientation 9", 40, {9, 0}},
      {"orientation 65535", 40, {0xFF, 0xFF}},
      {"not Exif", 4, {'E', 'x', 'i', 'g'}},
  };
  for (const Damage& damage : damages) {
    SCOPED_TRACE(damage.what);
    std::vector<uint8_t> segment = good;
    std::copy(damage.bytes.begin(), damage.bytes.end(), segment.begin() + damage.at);
    const auto bytes = test::with_segment(plain, segment);
    EXPECT_EQ(io::jpeg_exif_orientation(bytes), 1);
    Result<Image> image = decode_image(bytes, "damaged.jpg");
    ASSERT_TRUE(image.is_ok()) << image.status().message();
    EXPECT_EQ(image->pixels, stored->pixels);
  }
  // A segment cut short inside IFD0 (which ends at byte 44; the 4-byte offset of a next IFD
  // after it is not needed): its length says less than the entries need.
  for (size_t keep = 4; keep < 44; ++keep) {
    std::vector<uint8_t> segment(good.begin(), good.begin() + keep);
    segment[2] = static_cast<uint8_t>((keep - 2) >> 8);
    segment[3] = static_cast<uint8_t>((keep - 2) & 0xFF);
    const auto bytes = test::with_segment(plain, segment);
    EXPECT_EQ(io::jpeg_exif_orientation(bytes), 1) << keep;
    EXPECT_TRUE(decode_image(bytes, "short.jpg").is_ok()) << keep;
  }
  // Every prefix of the file (the walk over markers stops at the end of the bytes), and every
  // byte of the segment replaced by a few values: an orientation in 1..8, never a bad read.
  const auto turned = test::with_segment(plain, good);
  for (size_t size = 0; size <= 64; ++size) {
    const int orientation = io::jpeg_exif_orientation({turned.data(), size});
    EXPECT_TRUE(orientation >= 1 && orientation <= 8) << size;
  }
  for (size_t at = 2; at < 2 + good.size(); ++at) {
    for (uint8_t value : {0x00, 0x01, 0x7F, 0xFF}) {
      std::vector<uint8_t> bytes = turned;
      bytes[at] = value;
      const int orientation = io::jpeg_exif_orientation(bytes);
      EXPECT_TRUE(orientation >= 1 && orientation <= 8) << at;
      (void)decode_image(bytes, "flipped.jpg");  // may fail (a broken marker), must not crash
    }
  }
}

}  // namespace
}  // namespace qseg

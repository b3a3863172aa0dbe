// Bad input to the image readers: missing, empty, unknown, truncated and corrupted files must
// give one clear error line naming the file, never a crash (run under ASan too).
#include <gtest/gtest.h>

// jpeglib.h (used only to encode a grayscale JPEG fixture) needs FILE declared first.
// clang-format off
#include <cstdio>
#include <jpeglib.h>
// clang-format on

#include <random>

#include "imgproc/image_io.h"
#include "test_util.h"

namespace qseg {
namespace {

namespace fs = std::filesystem;
using test::shared_path;

const char kJpeg[] = "voc2012/JPEGImages/2007_000033.jpg";
const char kLabelPng[] = "voc2012/SegmentationClass/2007_000033.png";

TEST(ReadErrors, MissingFile) {
  const fs::path path = test::temp_dir("missing") / "nothing.jpg";
  Result<Image> image = read_image(path);
  ASSERT_FALSE(image.is_ok());
  EXPECT_EQ(image.status().message(),
            "cannot open " + path.string() + ": No such file or directory");
  EXPECT_FALSE(read_label_image(path).is_ok());
}

TEST(ReadErrors, DirectoryIsNotAFile) {
  const fs::path dir = test::temp_dir("a_directory");
  Result<Image> image = read_image(dir);
  ASSERT_FALSE(image.is_ok());
  EXPECT_EQ(image.status().message(), "cannot read " + dir.string() + ": Is a directory");
}

TEST(ReadErrors, EmptyFile) {
  const fs::path path = test::temp_dir("empty") / "empty.png";
  test::write_file(path, {});
  Result<Image> image = read_image(path);
  ASSERT_FALSE(image.is_ok());
  EXPECT_EQ(image.status().message(), path.string() + ": empty file");
}

TEST(ReadErrors, RandomBytesAreNotAnImage) {
  const fs::path path = test::temp_dir("random") / "noise.bmp";
  std::mt19937 rng(1);
  std::vector<uint8_t> bytes(1000);
  for (auto& b : bytes) b = static_cast<uint8_t>(rng());
  bytes[0] = 'x';
  test::write_file(path, bytes);
  Result<Image> image = read_image(path);
  ASSERT_FALSE(image.is_ok());
  EXPECT_EQ(image.status().message(), path.string() + ": not a JPEG, PNG, BMP or WebP file");
  Result<Image> labels = read_label_image(path);
  ASSERT_FALSE(labels.is_ok());
  EXPECT_EQ(labels.status().message(), path.string() + ": not a JPEG, PNG, BMP or WebP file");
}

TEST(ReadErrors, FileSizeLimit) {
  ImageLimits limits;
  limits.max_file_bytes = 100;
  const fs::path path = shared_path("images/bird.bmp");
  Result<Image> image = read_image(path, limits);
  ASSERT_FALSE(image.is_ok());
  EXPECT_EQ(image.status().message(), path.string() + ": file is larger than 100 bytes");
}

TEST(ReadErrors, JpegIsNotALabelImage) {
  const fs::path path = shared_path(kJpeg);
  Result<Image> labels = read_label_image(path);
  ASSERT_FALSE(labels.is_ok());
  EXPECT_EQ(labels.status().message(),
            path.string() + ": label image must be palette or 8-bit gray, got JPEG");
}

TEST(ReadErrors, TruncatedJpeg) {
  const std::vector<uint8_t> good = test::read_file(shared_path(kJpeg));
  ASSERT_TRUE(decode_image(good, "t.jpg").is_ok());
  // Cut in the headers, in the entropy-coded data, and just before the final EOI marker.
  for (size_t length : {size_t{3}, size_t{4}, size_t{20}, size_t{200}, size_t{700}, good.size() / 3,
                        good.size() / 2, good.size() - 100, good.size() - 2}) {
    const std::vector<uint8_t> cut(good.begin(), good.begin() + length);
    Result<Image> image = decode_image(cut, "t.jpg");
    ASSERT_FALSE(image.is_ok()) << length;
    EXPECT_EQ(image.status().message().rfind("t.jpg: ", 0), 0u) << image.status().message();
    EXPECT_EQ(image.status().message().find('\n'), std::string::npos);
  }
  const std::vector<uint8_t> half(good.begin(), good.begin() + good.size() / 2);
  EXPECT_EQ(decode_image(half, "t.jpg").status().message(),
            "t.jpg: corrupt or truncated JPEG: Premature end of JPEG file");
}

TEST(ReadErrors, TruncatedPngAndBmpFiles) {
  const std::vector<uint8_t> png = test::read_file(shared_path(kLabelPng));
  for (size_t length : {size_t{8}, size_t{30}, png.size() / 2, png.size() - 13, png.size() - 1}) {
    const std::vector<uint8_t> cut(png.begin(), png.begin() + length);
    Result<Image> image = decode_label_image(cut, "t.png");
    ASSERT_FALSE(image.is_ok()) << length;
    EXPECT_EQ(image.status().message(), "t.png: truncated PNG (the file ends early)") << length;
  }
  const std::vector<uint8_t> bmp = test::read_file(shared_path("images/bird.bmp"));
  for (size_t length : {size_t{2}, size_t{20}, size_t{100}, bmp.size() / 2, bmp.size() - 1}) {
    const std::vector<uint8_t> cut(bmp.begin(), bmp.begin() + length);
    Result<Image> image = decode_image(cut, "t.bmp");
    ASSERT_FALSE(image.is_ok()) << length;
    EXPECT_NE(image.status().message().find("truncated BMP"), std::string::npos)
        << image.status().message();
  }
}

TEST(ReadErrors, JpegWithHugeDeclaredSize) {
  std::vector<uint8_t> bytes = test::read_file(shared_path(kJpeg));
  // Patch the SOF0/SOF2 frame header to 65000 x 65000: over 2^28 pixels, but within libjpeg's
  // own limit of 65500 per side, so our check is the one that fires.
  size_t at = 2;
  bool patched = false;
  while (at + 9 < bytes.size() && bytes[at] == 0xFF) {
    const uint8_t marker = bytes[at + 1];
    const size_t length = bytes[at + 2] << 8 | bytes[at + 3];
    if (marker == 0xC0 || marker == 0xC2) {
      bytes[at + 5] = bytes[at + 7] = 0xFD;  // 0xFDE8 = 65000
      bytes[at + 6] = bytes[at + 8] = 0xE8;
      patched = true;
      break;
    }
    at += 2 + length;
  }
  ASSERT_TRUE(patched);
  Result<Image> image = decode_image(bytes, "t.jpg");
  ASSERT_FALSE(image.is_ok());
  EXPECT_EQ(image.status().message(),
            "t.jpg: JPEG dimensions 65000x65000 exceed the limit of 67108864 pixels (qseg's "
            "--max-image-mp raises it)");
}

// Flipped and overwritten bytes anywhere in real files: any outcome but a crash or a leak.
TEST(ReadErrors, CorruptedFilesNeverCrash) {
  std::mt19937 rng(42);
  for (const char* file : {kJpeg, kLabelPng, "images/bird_segmentation_mask.bmp"}) {
    const std::vector<uint8_t> good = test::read_file(shared_path(file));
    std::uniform_int_distribution<size_t> position(0, good.size() - 1);
    // Header corruption is the interesting part: bias half of the edits to the first 1 KB.
    std::uniform_int_distribution<size_t> head(0, std::min<size_t>(1023, good.size() - 1));
    for (int trial = 0; trial < 60; ++trial) {
      std::vector<uint8_t> bytes = good;
      for (int edit = 0; edit < 1 + trial % 4; ++edit) {
        const size_t at = trial % 2 ? head(rng) : position(rng);
        bytes[at] = static_cast<uint8_t>(rng());
      }
      Result<Image> image = decode_image(bytes, file);
      if (!image.is_ok()) {
        EXPECT_EQ(image.status().message().rfind(std::string(file) + ": ", 0), 0u)
            << image.status().message();
      } else {
        EXPECT_EQ(image->pixels.size(), size_t(image->width) * image->height * 3);
      }
      (void)decode_label_image(bytes, file);
    }
  }
}

// A grayscale JPEG, encoded here with libjpeg, decodes to RGB with equal channels.
std::vector<uint8_t> encode_gray_jpeg(int width, int height) {
  jpeg_compress_struct cinfo{};
  jpeg_error_mgr errors{};
  cinfo.err = jpeg_std_error(&errors);
  jpeg_create_compress(&cinfo);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&cinfo, &buffer, &size);
  cinfo.image_width = width;
  cinfo.image_height = height;
  cinfo.input_components = 1;
  cinfo.in_color_space = JCS_GRAYSCALE;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, 95, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  std::vector<uint8_t> row(width);
  while (cinfo.next_scanline < cinfo.image_height) {
    for (int x = 0; x < width; ++x) row[x] = static_cast<uint8_t>(x * 255 / (width - 1));
    JSAMPROW pointer = row.data();
    jpeg_write_scanlines(&cinfo, &pointer, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  std::vector<uint8_t> bytes(buffer, buffer + size);
  free(buffer);
  return bytes;
}

TEST(ReadJpeg, GrayscaleBecomesRgb) {
  const std::vector<uint8_t> bytes = encode_gray_jpeg(64, 16);
  Result<Image> image = decode_image(bytes, "gray.jpg");
  ASSERT_TRUE(image.is_ok()) << image.status().message();
  EXPECT_EQ(image->width, 64);
  EXPECT_EQ(image->height, 16);
  EXPECT_EQ(image->channels, 3);
  for (int x = 0; x < 64; ++x) {
    const uint8_t* p = image->row(8) + 3 * x;
    EXPECT_EQ(p[0], p[1]);
    EXPECT_EQ(p[1], p[2]);
    EXPECT_NEAR(p[0], x * 255 / 63, 6) << x;
  }
}

}  // namespace
}  // namespace qseg

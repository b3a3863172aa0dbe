// Decoding the shared photos and label maps, and PNG write/read round trips.
#include "imgproc/image_io.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

#include "imgproc/image_ops.h"
#include "test_util.h"

namespace qseg {
namespace {

namespace fs = std::filesystem;
using test::shared_path;

uint32_t le32(const std::vector<uint8_t>& b, size_t at) {
  return b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (uint32_t(b[at + 3]) << 24);
}

TEST(ReadImage, BirdBmpMatchesAHandParsedDecode) {
  const fs::path path = shared_path("images/bird.bmp");
  const std::vector<uint8_t> file = test::read_file(path);
  // A 24-bit bottom-up BMP: rows of B, G, R padded to 4 bytes, last row first.
  const uint32_t offset = le32(file, 10);
  const int width = static_cast<int>(le32(file, 18));
  const int height = static_cast<int>(le32(file, 22));
  ASSERT_EQ(file[28], 24);
  ASSERT_EQ(width, 512);
  ASSERT_EQ(height, 343);
  const size_t stride = (width * 3 + 3) / 4 * 4;

  Result<Image> image = read_image(path);
  ASSERT_TRUE(image.is_ok()) << image.status().message();
  ASSERT_EQ(image->width, width);
  ASSERT_EQ(image->height, height);
  ASSERT_EQ(image->channels, 3);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const uint8_t* bgr = &file[offset + (height - 1 - y) * stride + x * 3];
      const uint8_t* rgb = image->row(y) + x * 3;
      ASSERT_TRUE(rgb[0] == bgr[2] && rgb[1] == bgr[1] && rgb[2] == bgr[0]) << x << "," << y;
    }
  }
}

TEST(ReadImage, BirdSegmentationBmpIs513Square) {
  Result<Image> image = read_image(shared_path("images/bird_segmentation.bmp"));
  ASSERT_TRUE(image.is_ok()) << image.status().message();
  EXPECT_EQ(image->width, 513);
  EXPECT_EQ(image->height, 513);
}

TEST(ReadLabelImage, BirdMaskIndices) {
  const fs::path path = shared_path("images/bird_segmentation_mask.bmp");
  Result<Image> mask = read_label_image(path);
  ASSERT_TRUE(mask.is_ok()) << mask.status().message();
  ASSERT_EQ(mask->width, 513);
  ASSERT_EQ(mask->height, 513);
  ASSERT_EQ(mask->channels, 1);
  // The shared README mentions 255 boundaries, but this file holds only 0, 1, 2 and 3 (counted
  // independently with a script over the raw rows).
  std::array<int64_t, 256> counts{};
  for (uint8_t v : mask->pixels) counts[v]++;
  EXPECT_EQ(counts[0], 210555);
  EXPECT_EQ(counts[1], 680);
  EXPECT_EQ(counts[2], 557);
  EXPECT_EQ(counts[3], 51377);
  EXPECT_EQ(counts[0] + counts[1] + counts[2] + counts[3], 513 * 513);

  // Its palette is gray (entry i is (i, i, i)), so as a photo every channel equals the index.
  const std::vector<uint8_t> file = test::read_file(path);
  const uint32_t offset = le32(file, 10);
  ASSERT_EQ(file[28], 8);
  const size_t stride = (513 + 3) / 4 * 4;
  for (int y = 0; y < 513; y += 7) {
    for (int x = 0; x < 513; ++x) {
      ASSERT_EQ(mask->row(y)[x], file[offset + (512 - y) * stride + x]);
    }
  }
  Result<Image> photo = read_image(path);
  ASSERT_TRUE(photo.is_ok()) << photo.status().message();
  for (size_t i = 0; i < mask->pixels.size(); ++i) {
    ASSERT_EQ(photo->pixels[i * 3], mask->pixels[i]);
    ASSERT_EQ(photo->pixels[i * 3 + 2], mask->pixels[i]);
  }
}

// Every VOC photo has the size of its label map; labels are 0..20 or 255, and the palette in the
// file is the VOC colour map (decoding as RGB gives colorize_labels of the indices).
void check_dataset(const fs::path& root, size_t max_files) {
  // Only some photos are available: pair each photo with its label map.
  std::vector<fs::path> photos;
  for (const auto& entry : fs::directory_iterator(root / "JPEGImages")) {
    if (entry.path().extension() == ".jpg") photos.push_back(entry.path());
  }
  std::sort(photos.begin(), photos.end());
  if (photos.size() > max_files) photos.resize(max_files);
  ASSERT_FALSE(photos.empty());
  for (const fs::path& photo_path : photos) {
    const fs::path label_path =
        root / "SegmentationClass" / photo_path.filename().replace_extension(".png");
    Result<Image> photo = read_image(photo_path);
    ASSERT_TRUE(photo.is_ok()) << photo.status().message();
    Result<Image> label = read_label_image(label_path);
    ASSERT_TRUE(label.is_ok()) << label.status().message();
    EXPECT_EQ(photo->channels, 3);
    EXPECT_EQ(label->channels, 1);
    EXPECT_EQ(photo->width, label->width) << photo_path;
    EXPECT_EQ(photo->height, label->height) << photo_path;
    std::set<int> values(label->pixels.begin(), label->pixels.end());
    for (int v : values) EXPECT_TRUE(v <= 20 || v == 255) << label_path << " has " << v;
    EXPECT_GT(values.size(), 1u) << label_path;

    Result<Image> as_colors = read_image(label_path);
    ASSERT_TRUE(as_colors.is_ok()) << as_colors.status().message();
    EXPECT_EQ(as_colors->pixels, colorize_labels(*label).pixels) << label_path;
  }
}

TEST(ReadImage, Voc2012PhotosAndLabels) { check_dataset(shared_path("voc2012"), 100); }
TEST(ReadImage, CocoVocPhotosAndLabels) { check_dataset(shared_path("coco-voc"), 12); }

TEST(ReadImage, VocJpegLooksLikeAPhoto) {
  Result<Image> photo = read_image(shared_path("voc2012/JPEGImages/2007_000033.jpg"));
  ASSERT_TRUE(photo.is_ok()) << photo.status().message();
  EXPECT_EQ(photo->width, 500);
  EXPECT_EQ(photo->height, 366);
  // Not blank, not gray-filled: plenty of distinct colours.
  std::set<uint32_t> colors;
  for (size_t i = 0; i < photo->pixels.size(); i += 3) {
    colors.insert(photo->pixels[i] << 16 | photo->pixels[i + 1] << 8 | photo->pixels[i + 2]);
  }
  EXPECT_GT(colors.size(), 5000u);
}

TEST(WritePng, RgbRoundTrip) {
  const fs::path dir = test::temp_dir("write_png_rgb");
  Result<Image> bird = read_image(shared_path("images/bird.bmp"));
  ASSERT_TRUE(bird.is_ok());
  const fs::path path = dir / "bird.png";
  ASSERT_TRUE(write_png(path, *bird).is_ok());
  Result<Image> back = read_image(path);
  ASSERT_TRUE(back.is_ok()) << back.status().message();
  EXPECT_EQ(back->width, bird->width);
  EXPECT_EQ(back->height, bird->height);
  EXPECT_EQ(back->pixels, bird->pixels);
  // Only the final file is left in the folder: no temporary.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
  // An RGB PNG is not a label map.
  Result<Image> as_labels = read_label_image(path);
  ASSERT_FALSE(as_labels.is_ok());
  EXPECT_EQ(as_labels.status().message(),
            path.string() + ": label image must be palette or 8-bit gray, got 8-bit RGB PNG");
}

TEST(WritePng, GrayRoundTrip) {
  const fs::path path = test::temp_dir("write_png_gray") / "gray.png";
  Image gray(37, 11, 1);
  for (size_t i = 0; i < gray.pixels.size(); ++i) gray.pixels[i] = static_cast<uint8_t>(i * 7);
  ASSERT_TRUE(write_png(path, gray).is_ok());
  Result<Image> as_labels = read_label_image(path);  // 8-bit gray: the values themselves
  ASSERT_TRUE(as_labels.is_ok()) << as_labels.status().message();
  EXPECT_EQ(as_labels->pixels, gray.pixels);
  Result<Image> as_photo = read_image(path);
  ASSERT_TRUE(as_photo.is_ok());
  ASSERT_EQ(as_photo->channels, 3);
  for (size_t i = 0; i < gray.pixels.size(); ++i) {
    ASSERT_EQ(as_photo->pixels[3 * i], gray.pixels[i]);
    ASSERT_EQ(as_photo->pixels[3 * i + 1], gray.pixels[i]);
    ASSERT_EQ(as_photo->pixels[3 * i + 2], gray.pixels[i]);
  }
}

TEST(WritePng, LabelRoundTripKeepsIndicesAndUsesTheVocPalette) {
  const fs::path path = test::temp_dir("write_label_png") / "labels.png";
  Image labels(64, 33, 1);
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> id(0, 21);
  for (auto& v : labels.pixels) v = static_cast<uint8_t>(id(rng) == 21 ? 255 : id(rng));
  ASSERT_TRUE(write_label_png(path, labels).is_ok());
  Result<Image> back = read_label_image(path);
  ASSERT_TRUE(back.is_ok()) << back.status().message();
  EXPECT_EQ(back->pixels, labels.pixels);
  Result<Image> colors = read_image(path);
  ASSERT_TRUE(colors.is_ok());
  EXPECT_EQ(colors->pixels, colorize_labels(labels).pixels);
  // Overwriting an existing file works and replaces it.
  labels.pixels.assign(labels.pixels.size(), 7);
  ASSERT_TRUE(write_label_png(path, labels).is_ok());
  EXPECT_EQ(read_label_image(path)->pixels, labels.pixels);
}

TEST(WritePng, RejectsBadImagesAndPaths) {
  const fs::path dir = test::temp_dir("write_png_errors");
  EXPECT_FALSE(write_png(dir / "empty.png", Image()).is_ok());
  EXPECT_FALSE(write_label_png(dir / "rgb.png", Image(4, 4, 3)).is_ok());
  Image two_channels(2, 2, 2);
  EXPECT_FALSE(write_png(dir / "two.png", two_channels).is_ok());
  const fs::path missing = dir / "no_such_folder" / "x.png";
  const Status status = write_png(missing, Image(2, 2, 1));
  ASSERT_FALSE(status.is_ok());
  EXPECT_EQ(status.message(), "cannot write " + missing.string() + ": No such file or directory");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 0);
}

TEST(DetectFormat, FromMagicBytesNotExtension) {
  const fs::path dir = test::temp_dir("detect_format");
  const std::vector<uint8_t> bmp = test::read_file(shared_path("images/bird.bmp"));
  EXPECT_EQ(detect_image_format(bmp), ImageFormat::kBmp);
  const fs::path misnamed = dir / "bird.jpg";
  test::write_file(misnamed, bmp);
  Result<Image> image = read_image(misnamed);
  ASSERT_TRUE(image.is_ok()) << image.status().message();
  EXPECT_EQ(image->width, 512);
}

TEST(JpegWrite, RoundTripsCloseAndRejectsBadImages) {
  Image image(64, 48, 3);
  for (int y = 0; y < 48; ++y)
    for (int x = 0; x < 64; ++x) {
      uint8_t* p = image.row(y) + x * 3;
      p[0] = static_cast<uint8_t>(x * 4);
      p[1] = static_cast<uint8_t>(y * 5);
      p[2] = 128;
    }
  auto bytes = encode_jpeg(image, "smooth");
  ASSERT_TRUE(bytes.is_ok()) << bytes.status().message();
  auto back = decode_image(*bytes, "smooth");
  ASSERT_TRUE(back.is_ok()) << back.status().message();
  ASSERT_EQ(back->width, 64);
  ASSERT_EQ(back->height, 48);
  int64_t error = 0;
  for (size_t i = 0; i < image.pixels.size(); ++i)
    error += std::abs(int{image.pixels[i]} - int{back->pixels[i]});
  EXPECT_LT(static_cast<double>(error) / image.pixels.size(), 3.0);
  EXPECT_FALSE(encode_jpeg(Image(), "empty").is_ok());
  Image two(4, 4, 2);
  EXPECT_FALSE(encode_jpeg(two, "two").is_ok());
}

}  // namespace
}  // namespace qseg

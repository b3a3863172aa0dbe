// The three dataset layouts on small trees built here with their real folder and file names:
// VOC labels as palette PNGs, 8-bit gray and 16-bit gray (mapped by a label map); Cityscapes
// (leftImg8bit/ + gtFine/ labelIds -> the 19 train ids, the rest ignored); ADE20K
// (images/ + annotations/, 0 ignored, v -> v - 1); and bad labels named by file.
#include <gtest/gtest.h>

#include <fstream>

#include "eval/dataset.h"
#include "imgproc/fixture_encoders.h"
#include "imgproc/image_io.h"
#include "test_util.h"

namespace qseg {
namespace {

// A gray PNG (8 or 16 bits) of `values`, `width` per row.
std::vector<uint8_t> gray_png(int width, const std::vector<int>& values, int bits) {
  test::PngSpec spec;
  spec.width = static_cast<uint32_t>(width);
  spec.height = static_cast<uint32_t>(values.size() / width);
  spec.bit_depth = bits;
  spec.color_type = 0;
  for (size_t y = 0; y < spec.height; ++y) {
    std::vector<uint8_t> row;
    for (int x = 0; x < width; ++x) {
      const int v = values[y * width + x];
      if (bits == 16) row.push_back(static_cast<uint8_t>(v >> 8));
      row.push_back(static_cast<uint8_t>(v & 0xFF));
    }
    spec.rows.push_back(row);
  }
  return test::make_png(spec);
}

void write_photo(const std::filesystem::path& path, int width, int height) {
  std::filesystem::create_directories(path.parent_path());
  ASSERT_TRUE(write_png(path, Image(width, height, 3, 100)).is_ok());  // PNG bytes: magic decides
}

void write_bytes(const std::filesystem::path& path, const std::vector<uint8_t>& bytes) {
  std::filesystem::create_directories(path.parent_path());
  test::write_file(path, bytes);
}

std::filesystem::path fresh_root(const std::string& name) {
  return test::temp_dir(std::string("layouts_") + name + "_" +
                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
}

TEST(DatasetLayouts, VocLabelsInPaletteGrayAndSixteenBitPngs) {
  const auto root = fresh_root("voc");
  for (const char* name : {"palette", "gray8", "gray16"})
    write_photo(root / "JPEGImages" / (std::string(name) + ".jpg"), 3, 2);
  Image palette(3, 2, 1);
  palette.pixels = {0, 15, 15, 255, 1, 20};
  std::filesystem::create_directories(root / "SegmentationClass");
  ASSERT_TRUE(write_label_png(root / "SegmentationClass" / "palette.png", palette).is_ok());
  write_bytes(root / "SegmentationClass" / "gray8.png", gray_png(3, {0, 15, 15, 255, 1, 20}, 8));
  write_bytes(root / "SegmentationClass" / "gray16.png",
              gray_png(3, {0, 1500, 1500, 65535, 100, 2000}, 16));
  std::ofstream(root / "split.txt") << "palette\ngray8\n";
  std::ofstream(root / "wide.txt") << "gray16\n";

  auto samples = read_samples(DatasetSource{root, root / "split.txt"});
  ASSERT_TRUE(samples.is_ok()) << samples.status().message();
  for (const Sample& sample : *samples) {
    auto loaded = load_sample(sample);
    ASSERT_TRUE(loaded.is_ok()) << loaded.status().message();
    EXPECT_EQ(loaded->labels.pixels, (std::vector<uint8_t>{0, 15, 15, 255, 1, 20})) << sample.name;
  }
  // 16-bit values are no classes by themselves: the first one over 255 is named.
  DatasetSource wide{root, root / "wide.txt"};
  auto unmapped = load_sample(read_samples(wide).value()[0]);
  ASSERT_FALSE(unmapped.is_ok());
  EXPECT_EQ(unmapped.status().message(),
            (root / "SegmentationClass" / "gray16.png").string() +
                ": label value 1500 at (1, 0) is not a class id (0..20) or 255");
  // A label map brings them to classes.
  auto map = LabelMap::parse("1500=15,65535=255,100=1,2000=20,0=0");
  ASSERT_TRUE(map.is_ok());
  wide.label_map = std::make_shared<LabelMap>(*map);
  auto mapped = load_sample(read_samples(wide).value()[0]);
  ASSERT_TRUE(mapped.is_ok()) << mapped.status().message();
  EXPECT_EQ(mapped->labels.pixels, (std::vector<uint8_t>{0, 15, 15, 255, 1, 20}));
}

TEST(DatasetLayouts, CityscapesLabelIdsBecomeTrainIds) {
  const auto root = fresh_root("cityscapes");
  // Two cities of val, one of train; names as Cityscapes writes them.
  const std::vector<std::pair<std::string, std::string>> photos = {
      {"val", "frankfurt/frankfurt_000000_000294"},
      {"val", "lindau/lindau_000001_000019"},
      {"train", "aachen/aachen_000000_000019"}};
  for (const auto& [split, stem] : photos) {
    write_photo(root / "leftImg8bit" / split / (stem + "_leftImg8bit.png"), 4, 2);
    // labelIds: 7 road, 8 sidewalk, 26 car, 33 bicycle; 0 unlabeled, 4 static, 29 caravan,
    // 34 (not a labelId).
    write_bytes(root / "gtFine" / split / (stem + "_gtFine_labelIds.png"),
                gray_png(4, {7, 8, 26, 33, 0, 4, 29, 34}, 8));
  }
  // Files that are not photos of the split are not samples.
  write_bytes(root / "gtFine" / "val" / "frankfurt" / "frankfurt_000000_000294_gtFine_color.png",
              gray_png(1, {0}, 8));
  DatasetSource source{root, "val", nullptr, DatasetKind::kCityscapes};
  auto samples = read_samples(source);
  ASSERT_TRUE(samples.is_ok()) << samples.status().message();
  ASSERT_EQ(samples->size(), 2u);
  EXPECT_EQ((*samples)[0].name, "frankfurt_000000_000294");
  EXPECT_EQ((*samples)[1].name, "lindau_000001_000019");
  EXPECT_EQ((*samples)[1].label_path,
            root / "gtFine" / "val" / "lindau" / "lindau_000001_000019_gtFine_labelIds.png");
  auto split = resolve_split_path(source);
  ASSERT_TRUE(split.is_ok());
  EXPECT_EQ(*split, root / "leftImg8bit" / "val");
  auto loaded = load_sample((*samples)[0], {}, LabelCheck{19, 255});
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().message();
  EXPECT_EQ(loaded->labels.pixels, (std::vector<uint8_t>{0, 1, 13, 18, 255, 255, 255, 255}));
  // The kind's meaning comes before a label map: person-vs-rest on train ids.
  source.label_map = std::make_shared<LabelMap>(LabelMap::parse("13=1,255=255,*=0").value());
  auto car = load_sample(read_samples(source).value()[0], {}, LabelCheck{2, 255});
  ASSERT_TRUE(car.is_ok()) << car.status().message();
  EXPECT_EQ(car->labels.pixels, (std::vector<uint8_t>{0, 0, 1, 0, 255, 255, 255, 255}));
  // Every train id is listed once: labelIds 0..33 give the 19 classes and the rest 255.
  std::vector<int> train_ids;
  for (int id = 0; id < 34; ++id) {
    const int t = dataset_class(DatasetKind::kCityscapes, id, 255);
    if (t != 255) train_ids.push_back(t);
  }
  ASSERT_EQ(train_ids.size(), 19u);
  for (int t = 0; t < 19; ++t) EXPECT_EQ(train_ids[t], t);
  // A split that is not a folder.
  auto missing = read_samples(DatasetSource{root, "test", nullptr, DatasetKind::kCityscapes});
  ASSERT_FALSE(missing.is_ok());
  EXPECT_EQ(missing.status().message(), (root / "leftImg8bit" / "test").string() +
                                            ": not a folder (cityscapes splits are train, val, "
                                            "test)");
}

TEST(DatasetLayouts, Ade20kShiftsByOneAndIgnoresZero) {
  const auto root = fresh_root("ade20k") / "ADEChallengeData2016";
  for (const char* name : {"ADE_val_00000002", "ADE_val_00000001"}) {
    write_photo(root / "images" / "validation" / (std::string(name) + ".jpg"), 3, 1);
    write_bytes(root / "annotations" / "validation" / (std::string(name) + ".png"),
                gray_png(3, {0, 1, 150}, 8));
  }
  write_photo(root / "images" / "training" / "ADE_train_00000001.jpg", 3, 1);
  for (const char* split : {"validation", "val"}) {
    auto samples = read_samples(DatasetSource{root, split, nullptr, DatasetKind::kAde20k});
    ASSERT_TRUE(samples.is_ok()) << samples.status().message();
    ASSERT_EQ(samples->size(), 2u);
    EXPECT_EQ((*samples)[0].name, "ADE_val_00000001");  // path order
    EXPECT_EQ((*samples)[0].label_path,
              root / "annotations" / "validation" / "ADE_val_00000001.png");
    auto loaded = load_sample((*samples)[0], {}, LabelCheck{150, 255});
    ASSERT_TRUE(loaded.is_ok()) << loaded.status().message();
    EXPECT_EQ(loaded->labels.pixels, (std::vector<uint8_t>{255, 0, 149}));
  }
  // Value 151 is class 150: beyond the 150 classes.
  write_bytes(root / "annotations" / "validation" / "ADE_val_00000002.png",
              gray_png(3, {0, 151, 1}, 8));
  auto samples = read_samples(DatasetSource{root, "validation", nullptr, DatasetKind::kAde20k});
  ASSERT_TRUE(samples.is_ok());
  auto bad = load_sample((*samples)[1], {}, LabelCheck{150, 255});
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().message(),
            (root / "annotations" / "validation" / "ADE_val_00000002.png").string() +
                ": label value 150 at (1, 0) is not a class id (0..149) or 255");
}

TEST(DatasetLayouts, BadLabelsNameTheFile) {
  const auto root = fresh_root("bad");
  write_photo(root / "JPEGImages" / "a.jpg", 3, 2);
  write_bytes(root / "SegmentationClass" / "a.png", gray_png(2, {0, 1, 1, 0}, 8));
  std::ofstream(root / "split.txt") << "a\n";
  const Sample sample = read_samples(DatasetSource{root, root / "split.txt"}).value()[0];
  const std::string label = (root / "SegmentationClass" / "a.png").string();
  // The wrong size, whatever the values.
  auto sized = load_sample(sample, {}, LabelCheck{2, 255});
  ASSERT_FALSE(sized.is_ok());
  EXPECT_EQ(sized.status().message(), label + ": label is 2x2 but the photo " +
                                          (root / "JPEGImages" / "a.jpg").string() + " is 3x2");
  // A value beyond a 2-class set, and the ignore label as configured.
  write_bytes(root / "SegmentationClass" / "a.png", gray_png(3, {0, 1, 2, 0, 1, 254}, 8));
  auto beyond = load_sample(sample, {}, LabelCheck{2, 255});
  ASSERT_FALSE(beyond.is_ok());
  EXPECT_EQ(beyond.status().message(),
            label + ": label value 2 at (2, 0) is not a class id (0..1) or 255");
  auto ignored = load_sample(sample, {}, LabelCheck{3, 254});
  ASSERT_TRUE(ignored.is_ok()) << ignored.status().message();
  // An RGB PNG is no label image, in any of the accepted forms.
  ASSERT_TRUE(write_png(root / "SegmentationClass" / "a.png", Image(3, 2, 3)).is_ok());
  auto rgb = load_sample(sample);
  ASSERT_FALSE(rgb.is_ok());
  EXPECT_EQ(rgb.status().message(),
            label + ": label image must be palette, 8-bit or 16-bit gray, got 8-bit RGB PNG");
}

}  // namespace
}  // namespace qseg

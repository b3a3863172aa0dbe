// VOC-layout dataset reading: split files (whitespace, bad names, fallback path, errors) and
// sample loading with validation, on temporary datasets built here.
#include "eval/dataset.h"

#include <gtest/gtest.h>

#include <fstream>

#include "imgproc/image_io.h"
#include "test_util.h"

namespace qseg {
namespace {

void write_text(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

class DatasetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // One folder per test: ctest runs the tests of this fixture in parallel.
    root_ = test::temp_dir(std::string("eval_dataset_") +
                           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(root_ / "JPEGImages");
    std::filesystem::create_directories(root_ / "SegmentationClass");
  }
  // A photo (PNG bytes under a .jpg name: formats come from magic bytes) and its labels.
  void add_sample(const std::string& name, int width, int height, int label_width, int label_height,
                  uint8_t label_value) {
    ASSERT_TRUE(
        write_png(root_ / "JPEGImages" / (name + ".jpg"), Image(width, height, 3, 90)).is_ok());
    Image labels(label_width, label_height, 1, 0);
    labels.pixels.back() = label_value;
    ASSERT_TRUE(write_label_png(root_ / "SegmentationClass" / (name + ".png"), labels).is_ok());
  }
  std::string error_of(const std::string& split_text) {
    write_text(root_ / "split.txt", split_text);
    auto samples = read_samples(DatasetSource{root_, root_ / "split.txt"});
    EXPECT_FALSE(samples.is_ok());
    return samples.status().message();
  }
  std::filesystem::path root_;
};

TEST_F(DatasetTest, ReadsNamesIgnoringBlankLinesAndWhitespace) {
  write_text(root_ / "split.txt", "\n  a_1 \r\n\n\tb2\n   \nc\n");
  auto samples = read_samples(DatasetSource{root_, root_ / "split.txt"});
  ASSERT_TRUE(samples.is_ok()) << samples.status().message();
  ASSERT_EQ(samples->size(), 3u);
  EXPECT_EQ((*samples)[0].name, "a_1");
  EXPECT_EQ((*samples)[1].name, "b2");
  EXPECT_EQ((*samples)[2].name, "c");
  EXPECT_EQ((*samples)[0].photo_path, root_ / "JPEGImages" / "a_1.jpg");
  EXPECT_EQ((*samples)[0].label_path, root_ / "SegmentationClass" / "a_1.png");
}

TEST_F(DatasetTest, SplitNameIsAlsoLookedForUnderImageSets) {
  write_text(root_ / "ImageSets" / "Segmentation" / "mine.txt", "x\n");
  auto samples = read_samples(DatasetSource{root_, "mine.txt"});
  ASSERT_TRUE(samples.is_ok()) << samples.status().message();
  EXPECT_EQ(samples->at(0).name, "x");
  auto resolved = resolve_split_path(DatasetSource{root_, "mine.txt"});
  ASSERT_TRUE(resolved.is_ok());
  EXPECT_EQ(resolved.value(), root_ / "ImageSets" / "Segmentation" / "mine.txt");
}

TEST_F(DatasetTest, SeveralSourcesAreConcatenated) {
  write_text(root_ / "one.txt", "a\nb\n");
  write_text(root_ / "two.txt", "c\n");
  const std::vector<DatasetSource> sources = {{root_, root_ / "one.txt"},
                                              {root_, root_ / "two.txt"}};
  auto samples = read_samples(sources);
  ASSERT_TRUE(samples.is_ok()) << samples.status().message();
  ASSERT_EQ(samples->size(), 3u);
  EXPECT_EQ(samples->at(2).name, "c");
}

TEST_F(DatasetTest, BadSplitsAreErrorsNamingTheFileAndLine) {
  EXPECT_NE(error_of("a\n../etc/passwd\n")
                .find("split.txt:2: photo name \"../etc/passwd\" contains a path separator"),
            std::string::npos);
  EXPECT_NE(error_of("..\n").find("contains \"..\""), std::string::npos);
  EXPECT_NE(error_of("a b\n").find("split.txt:1"), std::string::npos);
  EXPECT_NE(error_of("a\\b\n").find("path separator"), std::string::npos);
  EXPECT_NE(error_of("a\nb\na\n").find("split.txt:3: photo name \"a\" is listed twice"),
            std::string::npos);
  EXPECT_NE(error_of("\n  \n").find("split.txt: the split lists no photos"), std::string::npos);
  EXPECT_NE(error_of("").find("the split lists no photos"), std::string::npos);

  auto missing = read_samples(DatasetSource{root_, "nope.txt"});
  ASSERT_FALSE(missing.is_ok());
  EXPECT_NE(missing.status().message().find("split file not found: nope.txt (also tried "),
            std::string::npos)
      << missing.status().message();
  auto no_root = read_samples(DatasetSource{root_ / "absent", "val.txt"});
  ASSERT_FALSE(no_root.is_ok());
  EXPECT_NE(no_root.status().message().find("dataset root is not a folder"), std::string::npos);
}

TEST_F(DatasetTest, LoadsAndValidatesSamples) {
  add_sample("good", 6, 4, 6, 4, 255);
  add_sample("small_label", 6, 4, 5, 4, 0);
  add_sample("value50", 6, 4, 6, 4, 50);
  add_sample("value21", 6, 4, 6, 4, 21);
  auto sample = [&](const std::string& name) {
    return Sample{name, root_ / "JPEGImages" / (name + ".jpg"),
                  root_ / "SegmentationClass" / (name + ".png")};
  };
  auto good = load_sample(sample("good"));
  ASSERT_TRUE(good.is_ok()) << good.status().message();
  EXPECT_EQ(good->rgb.channels, 3);
  EXPECT_EQ(good->labels.width, 6);
  EXPECT_EQ(good->labels.pixels.back(), 255);

  auto message = [&](const std::string& name) {
    auto loaded = load_sample(sample(name));
    EXPECT_FALSE(loaded.is_ok()) << name;
    return loaded.status().message();
  };
  const std::string labels = (root_ / "SegmentationClass").string();
  EXPECT_EQ(message("small_label"), labels + "/small_label.png: label is 5x4 but the photo " +
                                        (root_ / "JPEGImages" / "small_label.jpg").string() +
                                        " is 6x4");
  EXPECT_EQ(message("value50"),
            labels + "/value50.png: label value 50 at (5, 3) is not a class id (0..20) or 255");
  EXPECT_NE(message("value21").find("label value 21"), std::string::npos);
  EXPECT_EQ(message("absent"), (root_ / "JPEGImages" / "absent.jpg").string() +
                                   ": photo not found (\"absent\" is in the split)");
  ASSERT_TRUE(write_png(root_ / "JPEGImages" / "nolabel.jpg", Image(2, 2, 3)).is_ok());
  EXPECT_EQ(message("nolabel"),
            labels + "/nolabel.png: label not found (\"nolabel\" is in the split)");
  // An RGB PNG is not a label map.
  ASSERT_TRUE(write_png(root_ / "JPEGImages" / "rgb.jpg", Image(2, 2, 3)).is_ok());
  ASSERT_TRUE(write_png(root_ / "SegmentationClass" / "rgb.png", Image(2, 2, 3)).is_ok());
  EXPECT_NE(
      message("rgb").find(labels + "/rgb.png: label image must be palette, 8-bit or 16-bit gray"),
      std::string::npos);
}

}  // namespace
}  // namespace qseg

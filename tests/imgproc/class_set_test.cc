// Class sets: the built-in VOC set (names and the VOC colour map), the generated palette
// (deterministic, black first, visibly distinct), labels files (names, optional #RRGGBB colours,
// each error with its line) and the text round trip.
#include "qseg/class_set.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <set>

#include "imgproc/image_ops.h"
#include "test_util.h"

namespace qseg {
namespace {

double distance(const Rgb& a, const Rgb& b) {
  double sum = 0;
  for (int i = 0; i < 3; ++i) sum += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
  return std::sqrt(sum);
}

std::string parse_error(const std::string& text) {
  auto set = ClassSet::parse(text, "labels.txt");
  EXPECT_FALSE(set.is_ok()) << text;
  return set.is_ok() ? "" : set.status().message();
}

TEST(ClassSet, VocIsTheDefaultForTwentyOneClasses) {
  const ClassSet& voc = ClassSet::voc();
  ASSERT_EQ(voc.size(), 21);
  EXPECT_EQ(voc.name(0), "background");
  EXPECT_EQ(voc.name(15), "person");
  EXPECT_EQ(voc.name(20), "tvmonitor");
  EXPECT_EQ(voc.palette(), voc_colormap());  // all 256 entries, 255 (void) included
  EXPECT_EQ(ClassSet::default_for(21), voc);
  // The shared VOC labels file names the same classes (its notes follow a blank line).
  const auto bytes =
      test::read_file(test::shared_path("images/pascal_voc_segmentation_labels.txt"));
  const std::string text(bytes.begin(), bytes.end());
  auto shared = ClassSet::parse(text.substr(0, text.find("\n\n") + 1), "shared");
  ASSERT_TRUE(shared.is_ok()) << shared.status().message();
  EXPECT_EQ(shared->names(), voc.names());
}

TEST(ClassSet, OtherCountsGetGeneratedNamesAndColours) {
  for (int count : {1, 2, 19, 150, 151, 256}) {
    const ClassSet set = ClassSet::default_for(count);
    ASSERT_EQ(set.size(), count);
    EXPECT_EQ(set.name(0), "class_0");
    EXPECT_EQ(set.name(count - 1), "class_" + std::to_string(count - 1));
    EXPECT_EQ(set.color(0), (Rgb{0, 0, 0}));
    for (int c = 0; c < count; ++c) EXPECT_EQ(set.color(c), generated_class_color(c));
  }
  // Values beyond the classes keep the VOC colours (the ignore label 255 is VOC's void).
  EXPECT_EQ(ClassSet::default_for(19).palette()[255], (Rgb{224, 224, 192}));
  // Deterministic: the first entries, as documented (hue steps of 137.5 degrees).
  EXPECT_EQ(generated_class_color(1), (Rgb{255, 25, 25}));
}

TEST(ClassSet, GeneratedPaletteIsVisiblyDistinct) {
  const ClassSet set = ClassSet::generated(256);
  std::set<Rgb> unique(set.palette().begin(), set.palette().end());
  EXPECT_EQ(unique.size(), 256u) << "two classes share a colour";
  // Neighbouring ids (what a model confuses most) are far apart, and among the first 20 classes
  // (a Cityscapes-sized set) every pair is.
  double nearest_neighbour = 1e9, nearest_in_20 = 1e9;
  for (int c = 1; c < 256; ++c)
    nearest_neighbour = std::min(nearest_neighbour, distance(set.color(c - 1), set.color(c)));
  for (int a = 0; a < 20; ++a) {
    for (int b = a + 1; b < 20; ++b)
      nearest_in_20 = std::min(nearest_in_20, distance(set.color(a), set.color(b)));
  }
  EXPECT_GT(nearest_neighbour, 100.0);
  EXPECT_GT(nearest_in_20, 40.0);
}

TEST(ClassSet, ParsesNamesAndOptionalColours) {
  auto set =
      ClassSet::parse("road #804080\nside walk\r\n  traffic light   #faaa1e \n\n\n", "labels.txt");
  ASSERT_TRUE(set.is_ok()) << set.status().message();
  ASSERT_EQ(set->size(), 3);
  EXPECT_EQ(set->name(0), "road");
  EXPECT_EQ(set->color(0), (Rgb{0x80, 0x40, 0x80}));
  EXPECT_EQ(set->name(1), "side walk");
  EXPECT_EQ(set->color(1), generated_class_color(1));  // no colour given: the default's
  EXPECT_EQ(set->name(2), "traffic light");
  EXPECT_EQ(set->color(2), (Rgb{0xfa, 0xaa, 0x1e}));
  // The text form writes every colour and reads back the same set.
  auto back = ClassSet::parse(set->to_text(), "again");
  ASSERT_TRUE(back.is_ok()) << back.status().message();
  EXPECT_EQ(*back, *set);
  EXPECT_EQ(set->to_text(), "road #804080\nside walk #FF1919\ntraffic light #FAAA1E\n");
}

TEST(ClassSet, EachBadLineIsAnErrorWithItsNumber) {
  EXPECT_EQ(parse_error(""), "labels.txt: the labels file names no class");
  EXPECT_EQ(parse_error("\n\n"), "labels.txt: the labels file names no class");
  EXPECT_EQ(parse_error("a\n\nb\n"), "labels.txt:2: empty class name (line 2 names label value 1)");
  EXPECT_EQ(parse_error("a\n#102030\n"),
            "labels.txt:2: empty class name (line 2 names label value 1)");
  EXPECT_EQ(parse_error("a\nb #12345\n"),
            "labels.txt:2: bad colour \"#12345\" (a class line is NAME or NAME #RRGGBB)");
  EXPECT_EQ(parse_error("a #GG0000\n"),
            "labels.txt:1: bad colour \"#GG0000\" (a class line is NAME or NAME #RRGGBB)");
  EXPECT_EQ(parse_error("a #102030 #405060\n").find("labels.txt:1: bad colour"), 0u);
  EXPECT_EQ(parse_error("a\nb\na\n"), "labels.txt:3: class name \"a\" is already used on line 1");
  std::string many;
  for (int i = 0; i < 257; ++i) many += "c" + std::to_string(i) + "\n";
  EXPECT_EQ(parse_error(many), "labels.txt:257: more than 256 classes");
  many.resize(many.rfind("c256"));
  auto full = ClassSet::parse(many, "labels.txt");
  ASSERT_TRUE(full.is_ok()) << full.status().message();
  EXPECT_EQ(full->size(), 256);
}

TEST(ClassSet, ReadsFilesAndNamesMissingOnes) {
  const auto dir = test::temp_dir("class_set_file");
  std::ofstream(dir / "labels.txt") << "sky\nground\n";
  auto set = ClassSet::read_file(dir / "labels.txt");
  ASSERT_TRUE(set.is_ok()) << set.status().message();
  EXPECT_EQ(set->names(), (std::vector<std::string>{"sky", "ground"}));
  auto missing = ClassSet::read_file(dir / "absent.txt");
  ASSERT_FALSE(missing.is_ok());
  EXPECT_EQ(missing.status().message(), "cannot open labels file " + (dir / "absent.txt").string());
}

TEST(ClassSet, CreateChecksNamesAndColours) {
  EXPECT_FALSE(ClassSet::create({}).is_ok());
  EXPECT_FALSE(ClassSet::create({"a", ""}).is_ok());
  EXPECT_FALSE(ClassSet::create({"a", "a"}).is_ok());
  EXPECT_FALSE(ClassSet::create({"a", "b"}, {Rgb{1, 2, 3}}).is_ok());
  auto two = ClassSet::create({"a", "b"}, {Rgb{1, 2, 3}, Rgb{4, 5, 6}});
  ASSERT_TRUE(two.is_ok());
  EXPECT_EQ(two->color(1), (Rgb{4, 5, 6}));
}

TEST(ClassSet, OverlayAndColoursFollowTheSet) {
  auto set =
      ClassSet::create({"road", "sky", "car"}, {Rgb{0, 0, 0}, Rgb{200, 100, 0}, Rgb{0, 0, 250}});
  ASSERT_TRUE(set.is_ok());
  Image photo(4, 1, 3, 100);
  Image labels(4, 1, 1);
  labels.pixels = {0, 1, 2, 255};
  // Black classes and values that are no class (the ignore label) show the photo.
  EXPECT_EQ(overlay(photo, labels, 0.5f, *set).pixels,
            (std::vector<uint8_t>{100, 100, 100, 150, 100, 50, 50, 50, 175, 100, 100, 100}));
  EXPECT_EQ(colorize_labels(labels, *set).pixels,
            (std::vector<uint8_t>{0, 0, 0, 200, 100, 0, 0, 0, 250, 224, 224, 192}));
}

}  // namespace
}  // namespace qseg

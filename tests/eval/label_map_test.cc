// Label maps: parsing specs and files (each error names the flag or FILE:LINE), lookups with and
// without "*", applying them to 8- and 16-bit values, and load_sample mapping a VOC label as it
// loads it (person against background) with a missing entry reported by file and value.
#include "eval/label_map.h"

#include <gtest/gtest.h>

#include <fstream>

#include "eval/dataset.h"
#include "imgproc/image_io.h"
#include "test_util.h"

namespace qseg {
namespace {

std::string parse_error(const std::string& spec) {
  auto map = LabelMap::parse(spec);
  EXPECT_FALSE(map.is_ok()) << spec;
  return map.is_ok() ? "" : map.status().message();
}

TEST(LabelMap, ParsesEntriesAndTheDefault) {
  auto map = LabelMap::parse("15=1, 255 = 255,*=0");
  ASSERT_TRUE(map.is_ok()) << map.status().message();
  EXPECT_EQ(map->lookup(15), 1);
  EXPECT_EQ(map->lookup(255), 255);
  EXPECT_EQ(map->lookup(0), 0);
  EXPECT_EQ(map->lookup(14), 0);
  EXPECT_EQ(map->lookup(65535), 0);
  EXPECT_EQ(map->lookup(65536), -1);
  // "*" covers only the values not listed, wherever it stands.
  auto first = LabelMap::parse("*=7,3=2");
  ASSERT_TRUE(first.is_ok());
  EXPECT_EQ(first->lookup(3), 2);
  EXPECT_EQ(first->lookup(4), 7);
  // Without "*", unlisted values have no entry.
  auto partial = LabelMap::parse("1000=3");
  ASSERT_TRUE(partial.is_ok());
  EXPECT_EQ(partial->lookup(1000), 3);
  EXPECT_EQ(partial->lookup(0), -1);
}

TEST(LabelMap, EachBadSpecIsOneErrorNamingTheEntry) {
  EXPECT_EQ(parse_error(""), "--label-map: no FROM=TO entry given");
  EXPECT_EQ(parse_error("15"), "--label-map: entry \"15\" is not FROM=TO");
  EXPECT_EQ(parse_error("15=1,,2=0"), "--label-map: entry \"\" is not FROM=TO");
  EXPECT_EQ(parse_error("15=256"),
            "--label-map: entry \"15=256\": the class \"256\" is not a number in 0..255");
  EXPECT_EQ(parse_error("x=1"),
            "--label-map: entry \"x=1\": the label value \"x\" is not \"*\" or a number in "
            "0..65535");
  EXPECT_EQ(parse_error("65536=1").find("--label-map: entry \"65536=1\""), 0u);
  EXPECT_NE(parse_error("-1=1").find("the label value \"-1\""), std::string::npos);
  EXPECT_EQ(parse_error("3=1,3=2"), "--label-map: the label value 3 is listed twice");
  EXPECT_EQ(parse_error("*=1,*=2"), "--label-map: \"*\" is listed twice");
  EXPECT_EQ(parse_error("@/nonexistent/map.txt"), "--label-map: cannot open /nonexistent/map.txt");
}

TEST(LabelMap, FilesHaveOneEntryPerLineAndNumberedErrors) {
  const auto dir = test::temp_dir("label_map_file");
  const auto path = dir / "person.map";
  std::ofstream(path) << "# person against background\n15=1\n\n255=255\n*=0\n";
  auto map = LabelMap::parse("@" + path.string());
  ASSERT_TRUE(map.is_ok()) << map.status().message();
  EXPECT_EQ(map->source(), path.string());
  EXPECT_EQ(map->lookup(15), 1);
  EXPECT_EQ(map->lookup(3), 0);
  auto bad = LabelMap::parse_file_text("1=1\n2=x\n", "m.txt");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().message(),
            "m.txt:2: entry \"2=x\": the class \"x\" is not a number in 0..255");
  auto empty = LabelMap::parse_file_text("# nothing\n\n", "m.txt");
  ASSERT_FALSE(empty.is_ok());
  EXPECT_EQ(empty.status().message(), "m.txt: the label map has no FROM=TO line");
}

TEST(LabelMap, AppliesToEightAndSixteenBitValues) {
  auto map = LabelMap::parse("15=1,255=255,1000=2");
  ASSERT_TRUE(map.is_ok());
  std::vector<uint8_t> values = {15, 255, 15, 15};
  ASSERT_TRUE(map->apply(&values, 2, "a.png").is_ok());
  EXPECT_EQ(values, (std::vector<uint8_t>{1, 255, 1, 1}));
  // A value without an entry: the file, the value and where it is; the values are left alone.
  std::vector<uint8_t> unmapped = {15, 15, 15, 7};
  const Status status = map->apply(&unmapped, 2, "a.png");
  ASSERT_FALSE(status.is_ok());
  EXPECT_EQ(status.message(),
            "a.png: label value 7 at (1, 1) has no entry in the label map --label-map "
            "15=1,255=255,1000=2");
  EXPECT_EQ(unmapped, (std::vector<uint8_t>{15, 15, 15, 7}));
  std::vector<uint8_t> out;
  ASSERT_TRUE(map->apply(std::vector<uint16_t>{1000, 15, 255}, 3, "b.png", &out).is_ok());
  EXPECT_EQ(out, (std::vector<uint8_t>{2, 1, 255}));
  EXPECT_FALSE(map->apply(std::vector<uint16_t>{1001}, 1, "b.png", &out).is_ok());
}

TEST(LabelMap, LoadSampleMapsVocToPersonAgainstBackground) {
  const auto root = test::temp_dir("label_map_dataset");
  std::filesystem::create_directories(root / "JPEGImages");
  std::filesystem::create_directories(root / "SegmentationClass");
  ASSERT_TRUE(write_png(root / "JPEGImages" / "a.jpg", Image(3, 2, 3, 90)).is_ok());
  Image labels(3, 2, 1, 0);
  labels.pixels = {15, 15, 3, 255, 0, 20};
  ASSERT_TRUE(write_label_png(root / "SegmentationClass" / "a.png", labels).is_ok());
  std::ofstream(root / "split.txt") << "a\n";

  auto map = LabelMap::parse("15=1,255=255,*=0");
  ASSERT_TRUE(map.is_ok());
  DatasetSource source{root, root / "split.txt", std::make_shared<LabelMap>(*map)};
  auto samples = read_samples(source);
  ASSERT_TRUE(samples.is_ok()) << samples.status().message();
  auto loaded = load_sample((*samples)[0]);
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().message();
  EXPECT_EQ(loaded->labels.pixels, (std::vector<uint8_t>{1, 1, 0, 255, 0, 0}));

  // Without "*", the first value without an entry ends the load, naming the file.
  auto strict_map = LabelMap::parse("15=1,255=255,0=0");
  ASSERT_TRUE(strict_map.is_ok());
  source.label_map = std::make_shared<LabelMap>(*strict_map);
  auto strict = read_samples(source);
  ASSERT_TRUE(strict.is_ok());
  auto failed = load_sample((*strict)[0]);
  ASSERT_FALSE(failed.is_ok());
  EXPECT_EQ(failed.status().message(),
            (root / "SegmentationClass" / "a.png").string() +
                ": label value 3 at (2, 0) has no entry in the label map --label-map "
                "15=1,255=255,0=0");
}

}  // namespace
}  // namespace qseg

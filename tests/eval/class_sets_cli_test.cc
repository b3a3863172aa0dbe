// Class sets end to end through the command line, on small trees in each dataset layout and tiny
// models of the matching class count that predict one class everywhere (so every score is known
// exactly): names and colours from the model, from --labels, from the dataset's labels.txt;
// --dataset cityscapes / ade20k; --label-map with --ignore-label; and each error as one line.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "eval_test_util.h"
#include "imgproc/fixture_encoders.h"
#include "imgproc/image_io.h"
#include "qseg/class_set.h"
#include "qseg/tflite.h"
#include "tiny_model.h"

namespace qseg {
namespace {

using test::quoted;

constexpr const char* kCityscapesNames[] = {
    "road",         "sidewalk",   "building", "wall",       "fence",  "pole",  "traffic light",
    "traffic sign", "vegetation", "terrain",  "sky",        "person", "rider", "car",
    "truck",        "bus",        "train",    "motorcycle", "bicycle"};

std::string cityscapes_labels() {
  std::string text;
  for (const char* name : kCityscapesNames) text += std::string(name) + "\n";
  return text + "\n";
}

std::vector<uint8_t> gray_png(int width, const std::vector<uint8_t>& values) {
  test::PngSpec spec;
  spec.width = static_cast<uint32_t>(width);
  spec.height = static_cast<uint32_t>(values.size() / width);
  spec.color_type = 0;
  for (uint32_t y = 0; y < spec.height; ++y)
    spec.rows.emplace_back(values.begin() + y * width, values.begin() + (y + 1) * width);
  return test::make_png(spec);
}

void write_bytes(const std::filesystem::path& path, const std::vector<uint8_t>& bytes) {
  std::filesystem::create_directories(path.parent_path());
  test::write_file(path, bytes);
}

void write_photo(const std::filesystem::path& path, int width, int height) {
  std::filesystem::create_directories(path.parent_path());
  ASSERT_TRUE(write_png(path, Image(width, height, 3, 77)).is_ok());
}

class ClassSetsCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::temp_dir(std::string("class_sets_cli_") +
                          ::testing::UnitTest::GetInstance()->current_test_info()->name());
  }
  // A model of `classes` predicting `predicted`, with `labels` embedded (may be empty).
  std::filesystem::path model(const std::string& name, int classes, int predicted,
                              const std::string& labels = "", bool argmax = true) {
    const auto path = dir_ / name;
    EXPECT_TRUE(
        write_tflite_file(test::constant_class_graph(classes, predicted, argmax, 8, labels), path)
            .is_ok());
    return path;
  }
  // Cityscapes val: two photos of 4x2 whose labelIds hold road, car and unlabeled pixels.
  std::filesystem::path cityscapes_tree() {
    const auto root = dir_ / "cityscapes";
    for (const char* stem :
         {"frankfurt/frankfurt_000000_000294", "munster/munster_000001_000019"}) {
      write_photo(root / "leftImg8bit" / "val" / (std::string(stem) + "_leftImg8bit.png"), 4, 2);
      // labelIds 7 road, 26 car, 0 unlabeled, 24 person.
      write_bytes(root / "gtFine" / "val" / (std::string(stem) + "_gtFine_labelIds.png"),
                  gray_png(4, {7, 7, 26, 26, 26, 0, 24, 0}));
    }
    return root;
  }
  std::filesystem::path dir_;
};

TEST_F(ClassSetsCli, CityscapesWithTheModelsEmbeddedNames) {
  const auto root = cityscapes_tree();
  const auto m = model("car.tflite", 19, 13, cityscapes_labels());
  const std::string output =
      test::run_ok("eval --model " + quoted(m) + " --data " + quoted(root) +
                   " --split val --dataset cityscapes --json " + quoted(dir_ / "eval.json"));
  // One class per row, named by the model: "traffic light" is wider than VOC's names.
  EXPECT_NE(output.find("\nroad           "), std::string::npos) << output;
  EXPECT_NE(output.find("\ntraffic light  "), std::string::npos) << output;
  EXPECT_NE(output.find("of 19)"), std::string::npos) << output;
  const auto json = test::read_json(dir_ / "eval.json");
  ASSERT_EQ(json["classes"].size(), 19u);
  EXPECT_EQ(json["class_count"].get<int>(), 19);
  EXPECT_EQ(json["ignore_label"].get<int>(), 255);
  EXPECT_EQ(json["classes"][0]["name"], "road");
  EXPECT_EQ(json["classes"][13]["name"], "car");
  // The names came without colours: the generated palette's.
  const Rgb car = generated_class_color(13);
  char car_text[8];
  std::snprintf(car_text, sizeof(car_text), "#%02X%02X%02X", car[0], car[1], car[2]);
  EXPECT_EQ(json["classes"][13]["color"], car_text);
  EXPECT_EQ(json["confusion"]["counts"].size(), 19u);
  // Per photo: road 2, car 3, person 1 scored pixels (unlabeled ignored), all predicted car.
  EXPECT_EQ(json["scored_pixels"].get<int64_t>(), 12);
  EXPECT_EQ(json["correct_pixels"].get<int64_t>(), 6);
  EXPECT_DOUBLE_EQ(json["classes"][13]["iou"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(json["classes"][0]["iou"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(json["classes"][11]["iou"].get<double>(), 0.0);
  EXPECT_TRUE(json["classes"][1]["iou"].is_null());
  EXPECT_EQ(json["present_classes"].get<int>(), 3);
  EXPECT_DOUBLE_EQ(json["miou"].get<double>(), 0.5 / 3);

  // --labels overrides the model's names (same count); another count is one error line.
  std::ofstream(dir_ / "upper.txt") << [] {
    std::string t;
    for (int c = 0; c < 19; ++c)
      t += "C" + std::to_string(c) + " #0000" + (c < 10 ? "0" : "") + std::to_string(c) + "\n";
    return t;
  }();
  test::run_ok("eval --model " + quoted(m) + " --data " + quoted(root) +
               " --split val --dataset cityscapes --labels " + quoted(dir_ / "upper.txt") +
               " --json " + quoted(dir_ / "upper.json"));
  EXPECT_EQ(test::read_json(dir_ / "upper.json")["classes"][13]["name"], "C13");
  std::ofstream(dir_ / "three.txt") << "a\nb\nc\n";
  test::expect_clean_failure("eval --model " + quoted(m) + " --data " + quoted(root) +
                                 " --split val --dataset cityscapes --labels " +
                                 quoted(dir_ / "three.txt"),
                             (dir_ / "three.txt").string() + ": 3 class names, but the model " +
                                 m.string() + " has 19 classes");
  std::ofstream(dir_ / "bad.txt") << "a\n\nb\n";
  test::expect_clean_failure("eval --model " + quoted(m) + " --data " + quoted(root) +
                                 " --split val --dataset cityscapes --labels " +
                                 quoted(dir_ / "bad.txt"),
                             (dir_ / "bad.txt").string() + ":2: empty class name");
  test::expect_clean_failure(
      "eval --model " + quoted(m) + " --data " + quoted(root) + " --split val --dataset kitti",
      "--dataset must be voc, cityscapes or ade20k, got 'kitti'");
  test::expect_clean_failure("eval --model " + quoted(m) + " --data " + quoted(root) +
                                 " --split val --dataset cityscapes --ignore-label 300",
                             "--ignore-label must be in 0..255, got 300");
}

TEST_F(ClassSetsCli, Ade20kNamedByTheDatasetsLabelsFile) {
  const auto root = dir_ / "ADEChallengeData2016";
  write_photo(root / "images" / "validation" / "ADE_val_00000001.jpg", 3, 2);
  // 0 ignored; 1 -> class 0 ("wall"), 150 -> class 149.
  write_bytes(root / "annotations" / "validation" / "ADE_val_00000001.png",
              gray_png(3, {0, 1, 1, 150, 150, 150}));
  std::string names;
  for (int c = 0; c < 150; ++c)
    names += (c == 0 ? std::string("wall") : "thing " + std::to_string(c)) + "\n";
  std::ofstream(root / "labels.txt") << names;
  const auto m = model("ade.tflite", 150, 0);  // no names of its own
  const std::string output = test::run_ok("eval --model " + quoted(m) + " --data " + quoted(root) +
                                          " --split validation --dataset ade20k "
                                          "--json " +
                                          quoted(dir_ / "ade.json"));
  const auto json = test::read_json(dir_ / "ade.json");
  ASSERT_EQ(json["classes"].size(), 150u);
  EXPECT_EQ(json["classes"][0]["name"], "wall");
  EXPECT_EQ(json["classes"][149]["name"], "thing 149");
  EXPECT_EQ(json["scored_pixels"].get<int64_t>(), 5);
  EXPECT_DOUBLE_EQ(json["classes"][0]["iou"].get<double>(), 2.0 / 5);
  EXPECT_DOUBLE_EQ(json["classes"][149]["iou"].get<double>(), 0.0);
  EXPECT_NE(output.find("\nthing 149 "), std::string::npos) << output;
  // A value beyond the 150 classes (151 -> 150) is one line naming the label file.
  write_bytes(root / "annotations" / "validation" / "ADE_val_00000001.png",
              gray_png(3, {0, 1, 151, 150, 150, 150}));
  test::expect_clean_failure(
      "eval --model " + quoted(m) + " --data " + quoted(root) +
          " --split validation --dataset ade20k",
      (root / "annotations" / "validation" / "ADE_val_00000001.png").string() +
          ": label value 150 at (2, 0) is not a class id (0..149) or 255");
}

TEST_F(ClassSetsCli, VocPersonAgainstBackgroundWithALabelMapAndIgnoreLabel) {
  const auto root = dir_ / "voc";
  write_photo(root / "JPEGImages" / "a.jpg", 4, 2);
  Image labels(4, 2, 1);
  labels.pixels = {15, 15, 15, 3, 0, 255, 20, 15};
  std::filesystem::create_directories(root / "SegmentationClass");
  ASSERT_TRUE(write_label_png(root / "SegmentationClass" / "a.png", labels).is_ok());
  std::ofstream(root / "split.txt") << "a\n";
  const auto m = model("person.tflite", 2, 1, "background\nperson #FF0000\n");
  const std::string base = "eval --model " + quoted(m) + " --data " + quoted(root) + " --split " +
                           quoted(root / "split.txt");
  // VOC's values are not the 2 classes: the first one beyond is named.
  test::expect_clean_failure(base,
                             (root / "SegmentationClass" / "a.png").string() +
                                 ": label value 15 at (0, 0) is not a class id (0..1) or 255");
  // person -> 1, void stays void, the rest background: 4 of 7 scored pixels are person.
  test::run_ok(base + " --label-map 15=1,255=255,*=0 --json " + quoted(dir_ / "p.json"));
  auto json = test::read_json(dir_ / "p.json");
  EXPECT_EQ(json["classes"][1]["name"], "person");
  EXPECT_EQ(json["classes"][1]["color"], "#FF0000");
  EXPECT_EQ(json["scored_pixels"].get<int64_t>(), 7);
  EXPECT_DOUBLE_EQ(json["classes"][1]["iou"].get<double>(), 4.0 / 7);
  // Mapping void onto 7 and ignoring 7 instead of 255 scores the same pixels.
  test::run_ok(base + " --label-map 15=1,255=7,*=0 --ignore-label 7 --json " +
               quoted(dir_ / "i.json"));
  json = test::read_json(dir_ / "i.json");
  EXPECT_EQ(json["ignore_label"].get<int>(), 7);
  EXPECT_EQ(json["scored_pixels"].get<int64_t>(), 7);
  EXPECT_DOUBLE_EQ(json["classes"][1]["iou"].get<double>(), 4.0 / 7);
  // --save-masks writes the prediction in the model's colours.
  test::run_ok(base + " --label-map 15=1,255=255,*=0 --save-masks " + quoted(dir_ / "masks"));
  const auto png = test::read_file(dir_ / "masks" / "a.png");
  auto mask = read_label_image(dir_ / "masks" / "a.png");
  ASSERT_TRUE(mask.is_ok());
  EXPECT_EQ(mask->pixels, std::vector<uint8_t>(8, 1));
  auto colours = decode_image(png, "a.png");
  ASSERT_TRUE(colours.is_ok());
  EXPECT_EQ(colours->pixels[0], 255);  // person #FF0000
  EXPECT_EQ(colours->pixels[1], 0);
}

TEST_F(ClassSetsCli, SegmentInspectAndCompareUseTheClassSet) {
  const auto m = model("car.tflite", 19, 13, cityscapes_labels());
  write_photo(dir_ / "street.png", 12, 6);
  const std::string output =
      test::run_ok("segment --model " + quoted(m) + " --opacity 0.5 --no-legend --out " +
                   quoted(dir_ / "out") + " " + quoted(dir_ / "street.png"));
  EXPECT_NE(output.find("; car 100.0%"), std::string::npos) << output;
  std::ofstream(dir_ / "mine.txt") << cityscapes_labels().replace(0, 4, "asphalt");
  const std::string renamed =
      test::run_ok("segment --model " + quoted(m) + " --labels " + quoted(dir_ / "mine.txt") +
                   " --out " + quoted(dir_ / "out2") + " " + quoted(dir_ / "street.png"));
  EXPECT_NE(renamed.find("; car 100.0%"), std::string::npos) << renamed;
  std::ofstream(dir_ / "two.txt") << "a\nb\n";
  test::expect_clean_failure(
      "segment --model " + quoted(m) + " --labels " + quoted(dir_ / "two.txt") + " --out " +
          quoted(dir_ / "o") + " " + quoted(dir_ / "street.png"),
      (dir_ / "two.txt").string() + ": 2 class names, but the model has 19 classes");
  // The overlay is blended towards car's colour, the mask's palette holds it.
  auto overlay = read_image(dir_ / "out" / "street.overlay.png");
  ASSERT_TRUE(overlay.is_ok());
  const Rgb car = ClassSet::parse(cityscapes_labels(), "x")->color(13);
  EXPECT_EQ(overlay->pixels[2], static_cast<uint8_t>((77 + car[2] + 1) / 2)) << int(car[2]);

  const std::string inspected = test::run_ok("inspect " + quoted(m));
  EXPECT_NE(inspected.find("classes: 19, named in the model (qseg_labels metadata)"),
            std::string::npos)
      << inspected;
  EXPECT_NE(inspected.find("   13 #"), std::string::npos) << inspected;
  EXPECT_NE(inspected.find(" traffic light\n"), std::string::npos) << inspected;
  const std::string plain = test::run_ok("inspect " + quoted(model("plain.tflite", 7, 0)));
  EXPECT_NE(plain.find("classes: 7, not named in the model (shown as class_N)"), std::string::npos)
      << plain;

  // compare needs models of one class count.
  const auto root = cityscapes_tree();
  test::expect_clean_failure(
      "compare --model " + quoted(m) + " --model " + quoted(model("seven.tflite", 7, 0)) +
          " --data " + quoted(root) + " --split val --dataset cityscapes",
      m.string() + " has 19 classes but " + (dir_ / "seven.tflite").string() +
          " has 7: the models must tell the same classes apart");
  // Scores output (no ARG_MAX) and labels output agree.
  test::run_ok("compare --model " + quoted(m) + " --model " +
               quoted(model("scores.tflite", 19, 13, cityscapes_labels(), false)) + " --data " +
               quoted(root) + " --split val --dataset cityscapes --json " +
               quoted(dir_ / "c.json"));
  EXPECT_DOUBLE_EQ(test::read_json(dir_ / "c.json")["agreement"]["fraction"].get<double>(), 1.0);
}

}  // namespace
}  // namespace qseg

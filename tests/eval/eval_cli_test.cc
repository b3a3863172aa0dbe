// `qseg eval` and `qseg compare` end to end on a few VOC photos: the numbers match a
// deliberately simple independent computation, the masks are those of `qseg segment`, one and
// two threads agree exactly, and comparisons make sense.
#include <gtest/gtest.h>

#include <fstream>

#include "eval_test_util.h"
#include "imgproc/image_io.h"
#include "qseg/class_set.h"

namespace qseg {
namespace {

using test::quoted;

std::string voc_eval_args(int limit, int threads) {
  return "eval --model " + quoted(test::dm05_model()) + " --data " + quoted(test::voc_root()) +
         " --split val_available.txt --limit " + std::to_string(limit) + " --threads " +
         std::to_string(threads);
}

// The first `count` names of a split file, read the plain way.
std::vector<std::string> first_names(const std::filesystem::path& split, size_t count) {
  std::ifstream in(split);
  std::vector<std::string> names;
  std::string name;
  while (names.size() < count && in >> name) names.push_back(name);
  return names;
}

TEST(EvalCli, MatchesASimpleIndependentMiou) {
  const auto dir = test::temp_dir("eval_independent");
  const std::string out =
      test::run_ok(voc_eval_args(4, 2) + " --save-masks " + quoted(dir / "masks") + " --json " +
                   quoted(dir / "eval.json"));
  EXPECT_NE(out.find("present in labels or predictions"), std::string::npos) << out;
  EXPECT_NE(out.find("eval: 4/4 photos (100%)"), std::string::npos)
      << "plain progress lines off a terminal\n"
      << out;
  const auto json = test::read_json(dir / "eval.json");

  // Independent: per class, count the pixels in both (intersection) and in either (union),
  // skipping void; no confusion matrix.
  const auto names = first_names(test::voc_root() / "ImageSets/Segmentation/val_available.txt", 4);
  ASSERT_EQ(names.size(), 4u);
  const ClassSet& voc = ClassSet::voc();
  std::vector<int64_t> intersection(voc.size()), union_pixels(voc.size());
  int64_t correct = 0, scored = 0;
  for (const auto& name : names) {
    auto predicted = read_label_image(dir / "masks" / (name + ".png"));
    auto truth = read_label_image(test::voc_root() / "SegmentationClass" / (name + ".png"));
    auto photo = read_image(test::voc_root() / "JPEGImages" / (name + ".jpg"));
    ASSERT_TRUE(predicted.is_ok() && truth.is_ok() && photo.is_ok()) << name;
    ASSERT_EQ(predicted->width, photo->width) << "scored at the photo's own size";
    ASSERT_EQ(predicted->height, photo->height);
    ASSERT_EQ(predicted->pixels.size(), truth->pixels.size());
    for (size_t i = 0; i < truth->pixels.size(); ++i) {
      const int t = truth->pixels[i], p = predicted->pixels[i];
      if (t == 255) continue;
      ++scored;
      if (t == p) ++correct;
      for (int c = 0; c < voc.size(); ++c) {
        if (t == c && p == c) ++intersection[c];
        if (t == c || p == c) ++union_pixels[c];
      }
    }
  }
  double sum = 0;
  int present = 0;
  for (int c = 0; c < voc.size(); ++c) {
    const auto& iou = json["classes"][c]["iou"];
    if (union_pixels[c] == 0) {
      EXPECT_TRUE(iou.is_null()) << voc.name(c);
      continue;
    }
    const double expected =
        static_cast<double>(intersection[c]) / static_cast<double>(union_pixels[c]);
    EXPECT_EQ(iou.get<double>(), expected) << voc.name(c);
    sum += expected;
    ++present;
  }
  EXPECT_GE(present, 5);
  EXPECT_EQ(json["present_classes"].get<int>(), present);
  EXPECT_EQ(json["miou"].get<double>(), sum / present);
  EXPECT_EQ(json["pixel_accuracy"].get<double>(),
            static_cast<double>(correct) / static_cast<double>(scored));
  EXPECT_EQ(json["scored_pixels"].get<int64_t>(), scored);
  EXPECT_EQ(json["photos"]["scored"].get<int>(), 4);
  EXPECT_EQ(json["photos"]["bad"].get<int>(), 0);
  EXPECT_GT(json["miou"].get<double>(), 0.5);  // the published model does well on these
  EXPECT_EQ(json["per_photo"].size(), 4u);

  // The same Segmenter path as `qseg segment`: identical mask for a photo.
  test::run_ok("segment --out " + quoted(dir / "segment") + " " +
               quoted(test::voc_root() / "JPEGImages" / (names[1] + ".jpg")));
  auto from_segment = read_label_image(dir / "segment" / (names[1] + ".png"));
  auto from_eval = read_label_image(dir / "masks" / (names[1] + ".png"));
  ASSERT_TRUE(from_segment.is_ok() && from_eval.is_ok());
  EXPECT_EQ(from_segment->pixels, from_eval->pixels);
}

TEST(EvalCli, SameNumbersWithOneAndTwoThreads) {
  const auto dir = test::temp_dir("eval_threads");
  test::run_ok(voc_eval_args(3, 1) + " --json " + quoted(dir / "one.json"));
  test::run_ok(voc_eval_args(3, 2) + " --json " + quoted(dir / "two.json"));
  auto one = test::read_json(dir / "one.json");
  auto two = test::read_json(dir / "two.json");
  EXPECT_EQ(one["timing"]["threads"], 1);
  EXPECT_EQ(two["timing"]["threads"], 2);
  one.erase("timing");
  two.erase("timing");
  EXPECT_EQ(one, two);
}

// --requantization and --kernels reach the models: the reference kernels give the same masks as
// the default ones, TFLite's fixed-point arithmetic other masks than the default (XNNPACK's).
TEST(EvalCli, ArithmeticAndKernelsFlags) {
  const auto dir = test::temp_dir("eval_arithmetic");
  test::run_ok(voc_eval_args(3, 2) + " --json " + quoted(dir / "default.json"));
  test::run_ok(voc_eval_args(3, 2) + " --kernels reference --requantization xnnpack --json " +
               quoted(dir / "reference.json"));
  test::run_ok(voc_eval_args(3, 2) + " --requantization fixed-point --json " +
               quoted(dir / "fixed.json"));
  const auto by_default = test::read_json(dir / "default.json");
  const auto reference = test::read_json(dir / "reference.json");
  const auto fixed = test::read_json(dir / "fixed.json");
  EXPECT_EQ(by_default["confusion"], reference["confusion"]);
  EXPECT_NE(by_default["confusion"], fixed["confusion"]);
  const auto bad =
      test::run_command(test::qseg_command(voc_eval_args(1, 1) + " --requantization exact"));
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("--requantization"), std::string::npos) << bad.output;
}

// Multi-scale and flipped evaluation is for float training checkpoints (tests/train covers
// them); a .tflite model is one clear error, exit 2, before any photo.
TEST(EvalCli, ScalesAndFlipAreForFloatCheckpoints) {
  for (const std::string flags : {" --scales 0.5,1", " --flip", " --scales 1.25"}) {
    const auto bad = test::run_command(test::qseg_command(voc_eval_args(1, 1) + flags));
    EXPECT_EQ(bad.exit_code, 2) << flags << ": " << bad.output;
    EXPECT_NE(bad.output.find("are for float training checkpoints"), std::string::npos)
        << bad.output;
  }
  const auto not_a_number =
      test::run_command(test::qseg_command(voc_eval_args(1, 1) + " --scales 1,x"));
  EXPECT_EQ(not_a_number.exit_code, 2) << not_a_number.output;
  // One scale of 1 without --flip is the ordinary run.
  test::run_ok(voc_eval_args(1, 1) + " --scales 1");
}

TEST(EvalCli, ProgressBarOnATerminal) {
  // `script` runs the command on a pseudo-terminal: stderr is then a terminal and the bar is
  // redrawn in place with \r instead of printing plain lines.
  const auto result = test::run_command("script -qec \"" + test::qseg_command(voc_eval_args(1, 1)) +
                                        "\" /dev/null");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("\reval [##############################] 1/1 photos"),
            std::string::npos)
      << result.output;
  EXPECT_EQ(result.output.find("eval: 1/1 photos (100%)"), std::string::npos) << result.output;
}

TEST(CompareCli, ModelWithItselfAgreesEverywhere) {
  const auto dir = test::temp_dir("compare_self");
  const std::string model = quoted(test::dm05_model());
  const std::string out = test::run_ok(
      "compare --model " + model + " --model " + model + " --data " + quoted(test::voc_root()) +
      " --split val_available.txt --limit 2 --threads 2 --json " + quoted(dir / "compare.json"));
  EXPECT_NE(out.find("pixel agreement 100.00%"), std::string::npos) << out;
  const auto json = test::read_json(dir / "compare.json");
  EXPECT_EQ(json["command"], "compare");
  EXPECT_EQ(json["agreement"]["fraction"].get<double>(), 1.0);
  EXPECT_EQ(json["agreement"]["pixels"], json["agreement"]["agreeing_pixels"]);
  EXPECT_EQ(json["miou_difference"].get<double>(), 0.0);
  EXPECT_EQ(json["models"][0]["miou"], json["models"][1]["miou"]);
  EXPECT_EQ(json["models"][0]["confusion"], json["models"][1]["confusion"]);
  for (const auto& c : json["per_class_difference"]) {
    if (!c["b_minus_a"].is_null()) EXPECT_EQ(c["b_minus_a"].get<double>(), 0.0) << c["name"];
  }
  EXPECT_EQ(json["per_photo"].size(), 2u);
}

TEST(CompareCli, Uint8AgainstFloatModelIsSensible) {
  const auto dir = test::temp_dir("compare_float");
  const auto report = dir / "compare.html";
  const std::string out =
      test::run_ok("compare --model " + quoted(test::dm05_model()) + " --model " +
                   quoted(test::float257_model()) + " --data " + quoted(test::voc_root()) +
                   " --split val_available.txt --limit 2 --threads 2 --json " +
                   quoted(dir / "c.json") + " --report " + quoted(report));
  EXPECT_NE(out.find("photos where A and B disagree most"), std::string::npos) << out;
  const auto json = test::read_json(dir / "c.json");
  const auto& a = json["models"][0];
  const auto& b = json["models"][1];
  EXPECT_EQ(a["input"]["width"], 513);
  EXPECT_EQ(a["input"]["type"], "uint8");
  EXPECT_EQ(b["input"]["width"], 257);
  EXPECT_EQ(b["input"]["type"], "float32");
  EXPECT_EQ(b["output"], "scores");
  EXPECT_GT(a["miou"].get<double>(), 0.5);
  EXPECT_GT(b["miou"].get<double>(), 0.5);
  EXPECT_NEAR(json["miou_difference"].get<double>(),
              b["miou"].get<double>() - a["miou"].get<double>(), 1e-12);
  const double agreement = json["agreement"]["fraction"].get<double>();
  EXPECT_GT(agreement, 0.7);
  EXPECT_LT(agreement, 1.0);
  EXPECT_EQ(json["per_class_difference"].size(), 21u);
  EXPECT_EQ(json["most_disagreeing"].size(), 2u);
  // The photo listed first is the one with the lowest agreement.
  std::string lowest;
  double lowest_agreement = 2.0;
  for (const auto& p : json["per_photo"]) {
    if (p["agreement"].get<double>() < lowest_agreement) {
      lowest_agreement = p["agreement"].get<double>();
      lowest = p["name"];
    }
  }
  EXPECT_EQ(json["most_disagreeing"][0], lowest);
  const auto bytes = test::read_file(report);
  const std::string html(bytes.begin(), bytes.end());
  EXPECT_NE(html.find("Where A and B disagree most"), std::string::npos);
  EXPECT_NE(html.find("prediction B (deeplabv3_257_mv_gpu.tflite)"), std::string::npos);
  test::expect_report_renders(report, "compare_report");
}

TEST(CompareCli, NeedsTwoModels) {
  test::expect_clean_failure("compare --model " + quoted(test::dm05_model()) + " --data " +
                                 quoted(test::voc_root()) + " --split val_available.txt",
                             "compare needs exactly two --model flags, got 1");
}

}  // namespace
}  // namespace qseg

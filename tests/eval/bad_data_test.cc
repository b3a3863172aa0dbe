// `qseg eval` on bad data, with a dataset built here: each problem (missing photo or label, size
// mismatch, label value 50, corrupt JPEG, unreadable label, missing or empty split) is one error
// line naming the file and a non-zero exit; with --skip-bad the run goes on and counts them.
#include <gtest/gtest.h>

#include <fstream>

#include "eval_test_util.h"
#include "imgproc/image_io.h"

namespace qseg {
namespace {

using test::quoted;

class EvalBadData : public ::testing::Test {
 protected:
  void SetUp() override {
    // One folder per test: ctest runs the tests of this fixture in parallel.
    root_ = test::temp_dir(std::string("eval_bad_data_") +
                           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    photos_ = root_ / "JPEGImages";
    labels_ = root_ / "SegmentationClass";
    std::filesystem::create_directories(photos_);
    std::filesystem::create_directories(labels_);
    // A good sample: a small photo (PNG bytes under .jpg: formats come from magic bytes).
    write_photo("good", 64, 48);
    write_labels("good", 64, 48, 15);
    write_labels("nophoto", 64, 48, 0);
    write_photo("nolabel", 64, 48);
    write_photo("size", 64, 48);
    write_labels("size", 60, 48, 0);
    write_photo("value50", 64, 48);
    write_labels("value50", 64, 48, 50);
    // A JPEG cut short.
    auto jpeg = test::read_file(test::voc_root() / "JPEGImages" / "2007_000033.jpg");
    jpeg.resize(3000);
    test::write_file(photos_ / "corrupt.jpg", jpeg);
    write_labels("corrupt", 500, 366, 0);
    write_photo("badlabel", 64, 48);
    test::write_file(labels_ / "badlabel.png", {'n', 'o', 't', ' ', 'a', ' ', 'p', 'n', 'g'});
  }
  void write_photo(const std::string& name, int width, int height) {
    Image photo(width, height, 3);
    for (size_t i = 0; i < photo.pixels.size(); ++i) photo.pixels[i] = static_cast<uint8_t>(i * 7);
    ASSERT_TRUE(write_png(photos_ / (name + ".jpg"), photo).is_ok());
  }
  void write_labels(const std::string& name, int width, int height, uint8_t value) {
    Image labels(width, height, 1, 0);
    for (int x = width / 4; x < width / 2; ++x) labels.row(height / 2)[x] = value;
    ASSERT_TRUE(write_label_png(labels_ / (name + ".png"), labels).is_ok());
  }
  std::filesystem::path split(const std::string& name, const std::string& text) {
    const auto path = root_ / (name + ".txt");
    std::ofstream(path) << text;
    return path;
  }
  std::string eval_args(const std::filesystem::path& split_path) {
    return "eval --model " + quoted(test::dm05_model()) + " --data " + quoted(root_) + " --split " +
           quoted(split_path);
  }

  std::filesystem::path root_, photos_, labels_;
};

TEST_F(EvalBadData, EachProblemIsOneLineNamingTheFile) {
  const std::string photos = photos_.string() + "/", labels = labels_.string() + "/";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"nophoto", photos + "nophoto.jpg: photo not found"},
      {"nolabel", labels + "nolabel.png: label not found"},
      {"size", labels + "size.png: label is 60x48 but the photo " + photos + "size.jpg is 64x48"},
      {"value50",
       labels + "value50.png: label value 50 at (16, 24) is not a class id (0..20) or 255"},
      {"corrupt", photos + "corrupt.jpg: corrupt or truncated JPEG"},
      {"badlabel", labels + "badlabel.png: "},
  };
  for (const auto& [name, expected] : cases) {
    SCOPED_TRACE(name);
    test::expect_clean_failure(eval_args(split(name, name + "\n")), expected);
  }
  test::expect_clean_failure(eval_args(root_ / "absent.txt"),
                             "split file not found: " + (root_ / "absent.txt").string());
  test::expect_clean_failure(eval_args(split("empty", "\n \n")),
                             "empty.txt: the split lists no photos");
  test::expect_clean_failure(eval_args(split("escape", "good\n../x\n")),
                             "escape.txt:2: photo name \"../x\"");
  test::expect_clean_failure(eval_args(split("good", "good\n")) + " --limit -1",
                             "--limit must be 0 (all) or positive");
}

TEST_F(EvalBadData, LabelMapErrorsNameTheFlagOrTheFile) {
  test::expect_clean_failure(eval_args(split("good", "good\n")) + " --label-map 15",
                             "--label-map: entry \"15\" is not FROM=TO");
  test::expect_clean_failure(
      eval_args(split("good", "good\n")) + " --label-map @" + quoted(root_ / "absent.map"),
      "--label-map: cannot open " + (root_ / "absent.map").string());
  // value50's labels hold 0 and 50: 50 has no entry.
  test::expect_clean_failure(eval_args(split("value50", "value50\n")) + " --label-map 0=0,15=1",
                             labels_.string() +
                                 "/value50.png: label value 50 at (16, 24) has no entry in the "
                                 "label map --label-map 0=0,15=1");
  // Mapped onto a class, 50 is scored.
  const std::string output =
      test::run_ok(eval_args(split("value50", "value50\n")) + " --label-map 50=15,*=0 --json " +
                   quoted(root_ / "mapped.json"));
  const auto json = test::read_json(root_ / "mapped.json");
  EXPECT_GT(json["classes"][15]["label_pixels"].get<int64_t>(), 0) << output;
}

TEST_F(EvalBadData, FirstBadSampleInSplitOrderEndsTheRun) {
  // With two workers the good photo and the later bad ones run at the same time; the error is
  // still that of the first bad sample in the split.
  test::expect_clean_failure(
      eval_args(split("order", "good\nsize\nvalue50\nnophoto\n")) + " --threads 2",
      labels_.string() + "/size.png: label is 60x48");
}

TEST_F(EvalBadData, SkipBadGoesOnAndCountsThem) {
  const auto json_path = root_ / "out.json";
  const auto report = root_ / "report.html";
  const auto result = test::run_command(test::qseg_command(
      eval_args(split("all", "nophoto\ngood\nnolabel\nsize\nvalue50\ncorrupt\nbadlabel\n")) +
      " --skip-bad --threads 2 --json " + quoted(json_path) + " --report " + quoted(report)));
  // Exit status 3: done, but not for every photo; the last line says how many were skipped.
  ASSERT_EQ(result.exit_code, 3) << result.output;
  EXPECT_NE(result.output.find("qseg: error: 6 of 7 photos were bad and skipped (--skip-bad); the "
                               "numbers above are over the other 1"),
            std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("qseg: skipping bad sample value50: " + labels_.string() +
                               "/value50.png: label value 50"),
            std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("1 scored, 6 bad (skipped)"), std::string::npos) << result.output;
  // The first photo is bad: no rate until one is scored (not thousands of photos/s).
  EXPECT_NE(result.output.find("eval: 1/7 photos (14%), -- photos/s, 1 bad"), std::string::npos)
      << result.output;
  const auto json = test::read_json(json_path);
  EXPECT_EQ(json["photos"]["listed"], 7);
  EXPECT_EQ(json["photos"]["scored"], 1);
  EXPECT_EQ(json["photos"]["bad"], 6);
  ASSERT_EQ(json["bad_samples"].size(), 6u);
  const std::vector<std::string> bad_names = {"nophoto", "nolabel", "size",
                                              "value50", "corrupt", "badlabel"};
  for (size_t i = 0; i < bad_names.size(); ++i) {
    EXPECT_EQ(json["bad_samples"][i]["name"], bad_names[i]);
    EXPECT_NE(json["bad_samples"][i]["error"].get<std::string>().find(bad_names[i]),
              std::string::npos);
  }
  EXPECT_EQ(json["per_photo"].size(), 1u);
  EXPECT_EQ(json["per_photo"][0]["name"], "good");
  const auto bytes = test::read_file(report);
  const std::string html(bytes.begin(), bytes.end());
  EXPECT_NE(html.find("Bad samples (6, skipped)"), std::string::npos);
  EXPECT_NE(html.find("label value 50"), std::string::npos);
}

TEST_F(EvalBadData, MissingModelAndUnwritableOutputs) {
  test::expect_clean_failure("eval --model /nonexistent.tflite --data " + quoted(root_) +
                                 " --split " + quoted(split("good", "good\n")),
                             "cannot open /nonexistent.tflite");
  test::expect_clean_failure("eval --data " + quoted(root_ / "nowhere") + " --split val.txt",
                             "dataset root is not a folder: " + (root_ / "nowhere").string());
  // Outputs are checked before the evaluation: nothing is scored when they cannot be written.
  for (const char* flag : {"--json", "--report"}) {
    const auto result = test::run_command(test::qseg_command(eval_args(split("good", "good\n")) +
                                                             " " + flag + " /nonexistent/dir/out"));
    EXPECT_EQ(result.exit_code, 1) << result.output;
    EXPECT_NE(result.output.find("qseg: error: /nonexistent/dir/out: the folder /nonexistent/dir "
                                 "does not exist"),
              std::string::npos)
        << result.output;
    EXPECT_EQ(result.output.find("photos/s"), std::string::npos) << flag << ": " << result.output;
  }
}

}  // namespace
}  // namespace qseg

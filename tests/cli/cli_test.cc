// The qseg command line end to end: segment, run, inspect, and one clear error line with a
// non-zero exit for every kind of bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <nlohmann/json.hpp>

#include "imgproc/image_io.h"
#include "test_util.h"
#include "tiny_model.h"

namespace qseg {
namespace {

std::string qseg(const std::string& args) { return test::qseg_binary().string() + " " + args; }
std::string quoted(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

// Bad input must end in exactly one line "qseg: error: ..." and a non-zero exit, never a crash.
void expect_clean_failure(const std::string& args, const std::string& expected_text) {
  const auto result = test::run_command(qseg(args));
  EXPECT_NE(result.exit_code, 0) << args;
  EXPECT_LT(result.exit_code, 128) << "killed by a signal: " << args << "\n" << result.output;
  std::string last_line = result.output;
  while (!last_line.empty() && last_line.back() == '\n') last_line.pop_back();
  last_line = last_line.substr(last_line.find_last_of('\n') + 1);
  EXPECT_EQ(last_line.rfind("qseg: error: ", 0), 0u) << args << "\n" << result.output;
  EXPECT_NE(result.output.find(expected_text), std::string::npos) << args << "\n" << result.output;
  EXPECT_EQ(result.output.find("Sanitizer"), std::string::npos) << result.output;
  EXPECT_EQ(result.output.find("terminate"), std::string::npos) << result.output;
}

TEST(Cli, SegmentJpegAndPngOfOtherSizes) {
  const auto dir = test::temp_dir("cli_segment");
  // A VOC photo as JPEG, and another one re-encoded as PNG.
  const auto jpeg = test::shared_path("voc2012/JPEGImages/2007_000129.jpg");  // bicycles and people
  auto photo = read_image(test::shared_path("voc2012/JPEGImages/2007_000033.jpg"));  // aeroplanes
  ASSERT_TRUE(photo.is_ok());
  const auto png = dir / "plane.png";
  ASSERT_TRUE(write_png(png, photo.value()).is_ok());
  const auto result = test::run_command(
      qseg("segment --out " + quoted(dir / "out") + " " + quoted(jpeg) + " " + quoted(png)));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("ms"), std::string::npos);

  struct Case {
    std::string name;
    std::filesystem::path photo, truth;
  };
  for (const Case& c :
       {Case{"2007_000129", jpeg, test::shared_path("voc2012/SegmentationClass/2007_000129.png")},
        Case{"plane", png, test::shared_path("voc2012/SegmentationClass/2007_000033.png")}}) {
    auto mask = read_label_image(dir / "out" / (c.name + ".png"));
    ASSERT_TRUE(mask.is_ok()) << mask.status().message();
    auto original = read_image(c.photo);
    auto truth = read_label_image(c.truth);
    ASSERT_TRUE(original.is_ok() && truth.is_ok());
    EXPECT_EQ(mask->width, original->width);
    EXPECT_EQ(mask->height, original->height);
    auto overlay = read_image(dir / "out" / (c.name + ".overlay.png"));
    ASSERT_TRUE(overlay.is_ok());
    EXPECT_EQ(overlay->width, original->width);
    // Sensible classes: most labelled pixels agree with the VOC ground truth.
    int64_t scored = 0, same = 0;
    for (size_t i = 0; i < truth->pixels.size(); ++i) {
      if (truth->pixels[i] == 255) continue;
      ++scored;
      same += truth->pixels[i] == mask->pixels[i];
    }
    EXPECT_GT(static_cast<double>(same) / static_cast<double>(scored), 0.8) << c.name;
  }
}

TEST(Cli, SegmentOverlayOptions) {
  const auto dir = test::temp_dir("cli_overlay");
  const auto bird = test::shared_path("images/bird.bmp");
  auto photo = read_image(bird);
  ASSERT_TRUE(photo.is_ok());
  // Opacity 0 without outlines and legend: the photo itself.
  auto result = test::run_command(qseg("segment --opacity 0 --no-outlines --no-legend --out " +
                                       quoted(dir / "plain") + " " + quoted(bird)));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  auto plain = read_image(dir / "plain" / "bird.overlay.png");
  ASSERT_TRUE(plain.is_ok());
  EXPECT_EQ(plain->pixels, photo->pixels);
  // The default draws outlines and the legend: differs from the photo, same size.
  result = test::run_command(qseg("segment --out " + quoted(dir / "default") + " " + quoted(bird)));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  auto drawn = read_image(dir / "default" / "bird.overlay.png");
  ASSERT_TRUE(drawn.is_ok());
  EXPECT_EQ(drawn->width, photo->width);
  EXPECT_NE(drawn->pixels, photo->pixels);
  // --no-overlay: the mask only.
  result = test::run_command(
      qseg("segment --no-overlay --out " + quoted(dir / "none") + " " + quoted(bird)));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_TRUE(std::filesystem::exists(dir / "none" / "bird.png"));
  EXPECT_FALSE(std::filesystem::exists(dir / "none" / "bird.overlay.png"));
  // --overlay-format jpg: NAME.overlay.jpg of the photo's size, close to the PNG's pixels.
  result = test::run_command(
      qseg("segment --overlay-format jpg --out " + quoted(dir / "jpg") + " " + quoted(bird)));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  auto jpeg = read_image(dir / "jpg" / "bird.overlay.jpg");
  ASSERT_TRUE(jpeg.is_ok()) << jpeg.status().message();
  EXPECT_EQ(jpeg->width, photo->width);
  EXPECT_FALSE(std::filesystem::exists(dir / "jpg" / "bird.overlay.png"));
  int64_t error = 0;
  for (size_t i = 0; i < jpeg->pixels.size(); ++i)
    error += std::abs(int{jpeg->pixels[i]} - int{drawn->pixels[i]});
  EXPECT_LT(static_cast<double>(error) / jpeg->pixels.size(), 4.0);
  result = test::run_command(
      qseg("segment --overlay-format gif --out " + quoted(dir / "bad") + " " + quoted(bird)));
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.output.find("--overlay-format gif: expected png or jpg"), std::string::npos)
      << result.output;
  // A bad opacity: one line, non-zero exit, nothing written.
  for (const char* bad : {"1.5", "-0.1", "nan"}) {
    result = test::run_command(qseg("segment --opacity " + std::string(bad) + " --out " +
                                    quoted(dir / "bad") + " " + quoted(bird)));
    EXPECT_EQ(result.exit_code, 2) << bad;
    EXPECT_NE(result.output.find("--opacity"), std::string::npos) << result.output;
    EXPECT_EQ(std::count(result.output.begin(), result.output.end(), '\n'), 1) << result.output;
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "bad"));
}

TEST(Cli, RunWritesRawOutputAndLayerDump) {
  const auto dir = test::temp_dir("cli_run");
  const auto input = dir / "bird.rgb";
  test::write_file(
      input, test::read_maybe_gzipped(test::shared_path("golden/bird_segmentation_513.rgb.gz")));
  const auto result = test::run_command(qseg(
      "run --model " + quoted(test::shared_path("models/deeplabv3_mnv2_dm05_pascal_quant.tflite")) +
      " --input " + quoted(input) + " --output " + quoted(dir / "argmax.i64") + " --dump-dir " +
      quoted(dir / "layers")));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto out = test::read_file(dir / "argmax.i64");
  ASSERT_EQ(out.size(), 513u * 513u * 8u);  // int64, as the model says
  const auto golden = test::read_file(test::shared_path("golden/dm05_bird_argmax.u8"));
  const auto* labels = reinterpret_cast<const int64_t*>(out.data());
  int64_t same = 0;
  for (size_t i = 0; i < golden.size(); ++i) same += labels[i] == golden[i];
  EXPECT_GT(static_cast<double>(same) / static_cast<double>(golden.size()), 0.99);
  const auto index = nlohmann::json::parse(test::read_file(dir / "layers" / "index.json"));
  ASSERT_EQ(index["tensors"].size(), 72u);
  EXPECT_EQ(index["tensors"][0]["file"], "op00_t060.u8");
  EXPECT_EQ(std::filesystem::file_size(dir / "layers" / "op00_t060.u8"), 257u * 257u * 16u);
  EXPECT_EQ(index["tensors"][71]["file"], "op71_t185.i64");
  // The last dumped layer is the output itself.
  EXPECT_EQ(test::read_file(dir / "layers" / "op71_t185.i64"), out);
}

TEST(Cli, RunWithFloatRequantizationReproducesTfliteExactly) {
  const auto dir = test::temp_dir("cli_run_float");
  const auto input = dir / "bird.rgb";
  test::write_file(
      input, test::read_maybe_gzipped(test::shared_path("golden/bird_segmentation_513.rgb.gz")));
  const auto result = test::run_command(
      qseg("run --requantization float --model " +
           quoted(test::shared_path("models/deeplabv3_mnv2_dm05_pascal_quant.tflite")) +
           " --input " + quoted(input) + " --output " + quoted(dir / "argmax.i64")));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto out = test::read_file(dir / "argmax.i64");
  const auto golden = test::read_file(test::shared_path("golden/dm05_bird_argmax.u8"));
  ASSERT_EQ(out.size(), golden.size() * 8);
  const auto* labels = reinterpret_cast<const int64_t*>(out.data());
  for (size_t i = 0; i < golden.size(); ++i) ASSERT_EQ(labels[i], golden[i]) << "pixel " << i;
  expect_clean_failure("run --requantization bogus --model x --input y --output z", "bogus not in");
}

TEST(Cli, InspectShowsMultiplyAddsAndArena) {
  const auto result = test::run_command(qseg(
      "inspect " + quoted(test::shared_path("models/deeplabv3_mnv2_dm05_pascal_quant.tflite"))));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("DEPTHWISE_CONV_2D"), std::string::npos);
  EXPECT_NE(result.output.find("multiply-adds:"), std::string::npos);
  EXPECT_NE(result.output.find("arena bytes:"), std::string::npos);
  EXPECT_NE(result.output.find("ARG_MAX"), std::string::npos);
  // The published figures: 0.88 B (dm0.5) and 2.75 B (dm1.0) multiply-adds at 513x513.
  EXPECT_NE(result.output.find("multiply-adds: 867496704 (0.867 G"), std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("as DeepLab counts: 0.88 B"), std::string::npos) << result.output;
  const auto dm10 = test::run_command(
      qseg("inspect " + quoted(test::shared_path("models/deeplabv3_mnv2_pascal_quant.tflite"))));
  ASSERT_EQ(dm10.exit_code, 0) << dm10.output;
  EXPECT_NE(dm10.output.find("as DeepLab counts: 2.75 B"), std::string::npos) << dm10.output;
}

class CliBadInput : public ::testing::Test {
 protected:
  // One folder per test: ctest runs tests in parallel, and temp_dir empties its folder.
  void SetUp() override {
    dir_ = test::temp_dir(std::string("cli_bad_") +
                          ::testing::UnitTest::GetInstance()->current_test_info()->name());
  }
  std::filesystem::path write(const std::string& name, const std::vector<uint8_t>& bytes) {
    test::write_file(dir_ / name, bytes);
    return dir_ / name;
  }
  std::filesystem::path dir_;
};

TEST_F(CliBadInput, MissingModel) {
  expect_clean_failure(
      "segment --model /nonexistent.tflite " + quoted(test::shared_path("images/bird.bmp")),
      "cannot open /nonexistent.tflite");
}

TEST_F(CliBadInput, EmptyModel) {
  expect_clean_failure("inspect " + quoted(write("empty.tflite", {})), "empty file");
}

TEST_F(CliBadInput, TruncatedModel) {
  auto bytes = test::read_file(test::shared_path("models/deeplabv3_mnv2_dm05_pascal_quant.tflite"));
  bytes.resize(bytes.size() / 3);
  expect_clean_failure("segment --model " + quoted(write("cut.tflite", bytes)) + " " +
                           quoted(test::shared_path("images/bird.bmp")),
                       "corrupt TFLite model");
}

TEST_F(CliBadInput, WrongIdentifier) {
  auto bytes = test::build_tflite(test::tiny_conv_model());
  std::copy_n("ABCD", 4, bytes.begin() + 4);
  expect_clean_failure("inspect " + quoted(write("id.tflite", bytes)), "not a TFLite model");
}

TEST_F(CliBadInput, IndexOutOfRange) {
  auto m = test::tiny_conv_model();
  m.tensors[1].buffer = 1000;
  expect_clean_failure("inspect " + quoted(write("buf.tflite", test::build_tflite(m))),
                       "buffer index 1000 is out of range");
  m = test::tiny_conv_model();
  m.op_inputs[0] = 77;
  expect_clean_failure("inspect " + quoted(write("idx.tflite", test::build_tflite(m))),
                       "tensor index 77 is out of range");
}

TEST_F(CliBadInput, NegativeOrHugeShape) {
  auto m = test::tiny_conv_model();
  m.tensors[0].shape = {1, -1, 4, 3};
  expect_clean_failure("inspect " + quoted(write("neg.tflite", test::build_tflite(m))),
                       "negative dimension");
  m = test::tiny_conv_model();
  m.tensors[0].shape = {1000000, 1000000, 1000, 3};
  expect_clean_failure("inspect " + quoted(write("huge.tflite", test::build_tflite(m))),
                       "more than");
}

// inspect lists a model with an op qseg cannot run and marks it; running it is one clear error.
TEST_F(CliBadInput, UnsupportedOp) {
  auto m = test::tiny_conv_model();
  m.builtin_code = 25;  // SOFTMAX
  const auto model = write("softmax.tflite", test::build_tflite(m));
  const auto inspected = test::run_command(qseg("inspect " + quoted(model)));
  ASSERT_EQ(inspected.exit_code, 0) << inspected.output;
  EXPECT_NE(inspected.output.find("SOFTMAX"), std::string::npos) << inspected.output;
  EXPECT_NE(inspected.output.find("** qseg cannot run (code 25)"), std::string::npos)
      << inspected.output;
  EXPECT_NE(inspected.output.find("1 op qseg cannot run: SOFTMAX (op 0)"), std::string::npos)
      << inspected.output;
  expect_clean_failure("segment --model " + quoted(model) + " --out " + quoted(dir_ / "out") + " " +
                           quoted(test::shared_path("images/bird.bmp")),
                       "op 0 (SOFTMAX): qseg cannot run this op (TFLite builtin code 25)");
}

TEST_F(CliBadInput, NotAnImage) {
  const std::string text = "this is a text file, not a photo\n";
  const auto path = write("photo.jpg", std::vector<uint8_t>(text.begin(), text.end()));
  expect_clean_failure("segment --out " + quoted(dir_ / "out") + " " + quoted(path),
                       "not a JPEG, PNG, BMP or WebP");
}

TEST_F(CliBadInput, MissingImage) {
  expect_clean_failure("segment --out " + quoted(dir_ / "out") + " /nonexistent/photo.jpg",
                       "cannot open /nonexistent/photo.jpg");
}

TEST_F(CliBadInput, WrongFlagsAndValues) {
  expect_clean_failure("segment --no-such-flag x.jpg", "--no-such-flag");
  expect_clean_failure("segment --threads 0 " + quoted(test::shared_path("images/bird.bmp")),
                       "--threads must be between 1 and 256");
  expect_clean_failure("segment --threads many x.jpg", "--threads = many");
  expect_clean_failure("frobnicate", "unknown command 'frobnicate'");
  expect_clean_failure("run --model x.tflite", "--input");
}

// Every limit is checked before allocating, names itself, and has a flag that moves it.
TEST_F(CliBadInput, LimitsNameThemselvesAndFlagsMoveThem) {
  const std::string dm05 =
      quoted(test::shared_path("models/deeplabv3_mnv2_dm05_pascal_quant.tflite"));
  const std::string dm10 =
      quoted(test::shared_path("models/deeplabv3_mnv2_pascal_quant.tflite"));  // 2.2 MB
  expect_clean_failure("inspect --max-model-mb 1 " + dm10,
                       "exceeds the model size limit of 1048576 (--max-model-mb raises it)");
  expect_clean_failure("inspect --max-ops 10 " + dm05,
                       "ops exceed the limit of 10 (--max-ops raises it)");
  expect_clean_failure("inspect --max-tensors 10 " + dm05,
                       "tensors exceed the limit of 10 (--max-tensors raises it)");
  expect_clean_failure("inspect --max-tensor-mb 1 " + dm05,
                       "above the tensor size limit (--max-tensor-mb raises it)");
  const std::string bird = quoted(test::shared_path("images/bird.bmp"));
  expect_clean_failure("segment --max-arena-mb 1 --out " + quoted(dir_ / "out") + " " + bird,
                       "above the arena limit of 1048576 bytes");
  expect_clean_failure("segment --max-arena-mb 1 --out " + quoted(dir_ / "out") + " " + bird,
                       "(--max-arena-mb raises it)");
  const auto big = dir_ / "big.png";  // 1.2 million pixels
  ASSERT_TRUE(write_png(big, Image(1200, 1000, 3, 90)).is_ok());
  expect_clean_failure("segment --max-image-mp 1 --out " + quoted(dir_ / "out") + " " + quoted(big),
                       "exceed the limit of 1000000 pixels");
  expect_clean_failure("segment --max-image-mp 0 x.png", "--max-image-mp");
  // Raised, the same inputs go through.
  test::CommandResult r =
      test::run_command(test::qseg_binary().string() + " segment --max-image-mp 2 --out " +
                        quoted(dir_ / "out") + " " + quoted(big));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  r = test::run_command(test::qseg_binary().string() + " inspect --max-model-mb 3 " + dm10);
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST_F(CliBadInput, RawInputOfWrongSize) {
  const auto input = write("short.rgb", std::vector<uint8_t>(1000, 0));
  expect_clean_failure(
      "run --model " + quoted(test::shared_path("models/deeplabv3_mnv2_dm05_pascal_quant.tflite")) +
          " --input " + quoted(input) + " --output " + quoted(dir_ / "o.bin"),
      "holds 1000 bytes, the model input (uint8 1x513x513x3) needs 789507");
}

}  // namespace
}  // namespace qseg

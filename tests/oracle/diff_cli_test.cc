// qseg diff end to end against the real TFLite (the oracle's fixture installs it): the layer table
// on one photo, the per-photo lines and JSON over several, two arithmetics in qseg, and one clear
// error line for every kind of bad input.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "eval/eval_test_util.h"
#include "oracle_util.h"
#include "test_util.h"

namespace qseg {
namespace {

using test::expect_clean_failure;
using test::quoted;

// The arguments of a qseg diff against the tests' oracle.
std::string diff(const std::string& args) {
  return "diff --oracle " + quoted(test::tflite_oracle_dir()) + " " + args;
}
test::CommandResult run_diff(const std::string& args) {
  return test::run_command(test::qseg_command(diff(args)));
}
const std::filesystem::path dm05 =
    test::shared_path("models/deeplabv3_mnv2_dm05_pascal_quant.tflite");
const std::filesystem::path dm10 = test::shared_path("models/deeplabv3_mnv2_pascal_quant.tflite");

TEST(DiffCli, OnePhotoLayerByLayerAgainstRealTflite) {
  const auto result = run_diff(("--model " + quoted(dm05) + " " +
                                quoted(test::shared_path("images/bird_segmentation.bmp"))));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  // 72 ops, each a row; nothing differs in the default arithmetic.
  EXPECT_NE(result.output.find("71  ARG_MAX"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("first op that differs: none"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("1 inputs, 1 bit-identical (100%)"), std::string::npos);
}

TEST(DiffCli, TwoArithmeticsInQsegFindTheFirstConvolutionThatDiffers) {
  const auto result =
      run_diff(("--model " + quoted(dm05) + " --b qseg --requantization-b fixed-point " +
                quoted(test::shared_path("images/bird_segmentation.bmp"))));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("B: " + dm05.string() + " in qseg fixed-point"), std::string::npos)
      << result.output;
  // XNNPACK's and TFLite's built-in requantization part at the first convolution.
  EXPECT_NE(result.output.find("first op that differs: op 0 CONV_2D"), std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("0 bit-identical"), std::string::npos) << result.output;
}

TEST(DiffCli, ManyPhotosOneLineEachAndJson) {
  const auto dir = test::temp_dir("diff_cli_json");
  const auto json = dir / "diff.json";
  const auto result = run_diff(("--model " + quoted(dm10) + " --limit 3 --json " + quoted(json) +
                                " " + quoted(test::shared_path("voc2012/JPEGImages"))));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("3 inputs, 3 bit-identical (100%)"), std::string::npos)
      << result.output;
  std::ifstream in(json);
  const auto doc = nlohmann::json::parse(in, nullptr, false);
  ASSERT_FALSE(doc.is_discarded());
  ASSERT_EQ(doc["inputs"].size(), 3u);
  for (const auto& entry : doc["inputs"]) {
    EXPECT_TRUE(entry["identical"].get<bool>());
    EXPECT_EQ(entry["pixels"].get<int64_t>(), 513 * 513);
  }
  EXPECT_EQ(doc["summary"]["identical"].get<int>(), 3);
}

TEST(DiffCli, BadInputIsOneErrorLine) {
  const auto bird = quoted(test::shared_path("images/bird_segmentation.bmp"));
  const auto dir = test::temp_dir("diff_cli_bad");
  expect_clean_failure("diff --oracle /nonexistent --model " + quoted(dm05) + " " + bird,
                       "no TFLite oracle in /nonexistent");
  expect_clean_failure(
      diff("--model " + quoted(dm05) + " --model-b " + quoted(dm10) + " --b qseg --layers " + bird),
      "the models have different graphs: op 0 (CONV_2D) has outputs of other");
  expect_clean_failure(
      diff("--model " + quoted(dm05) + " --model-b " +
           quoted(test::shared_path("models/deeplabv3_257_mv_gpu.tflite")) + " " + bird),
      "the models take different inputs");
  const auto raw = dir / "short.raw";
  std::ofstream(raw) << "not 513 x 513 x 3 bytes";
  expect_clean_failure(diff("--model " + quoted(dm05) + " --raw " + quoted(raw)),
                       "the input holds 23 bytes, the model needs 789507");
  expect_clean_failure(diff("--model " + quoted(dm05) + " " + quoted(dir / "missing.jpg")),
                       "missing.jpg: no such file or folder");
  expect_clean_failure(diff("--model " + quoted(dm05) + " --b qseg " + bird),
                       "both sides are the same");
  expect_clean_failure(diff("--model " + quoted(dm05) + " --b onnx " + bird),
                       "--a and --b take qseg, tflite or onnxruntime, got 'onnx'");
  expect_clean_failure(diff("--model " + quoted(dm05) + " --b onnxruntime --onnxruntime " +
                            quoted(dir / "no-ort") + " " + bird),
                       "no ONNX Runtime in");
  expect_clean_failure(
      diff("--model " + quoted(dm05) + " --json " + quoted(dir / "no/such.json") + " " + bird),
      "does not exist");
  expect_clean_failure(diff("--model " + quoted(dir / "none.tflite") + " " + bird), "none.tflite");
}

std::string conformance(const std::string& args, const std::string& oracle) {
  return "QSEG=" + quoted(test::qseg_binary()) + " QSEG_SHARED=" + quoted(test::shared_path("")) +
         " QSEG_TFLITE_ORACLE=" + quoted(std::filesystem::path(oracle)) + " " +
         quoted(std::filesystem::path(QSEG_SOURCE_DIR) / "scripts/conformance.sh") + " " + args;
}

TEST(ConformanceScript, OnePhotoOfEachFolderAndBadInput) {
  const auto dir = test::temp_dir("conformance_script");
  const std::string oracle = test::tflite_oracle_dir().string();
  const auto ok = test::run_command(
      conformance("--sample 1 --out " + quoted(dir / "out") + " " + quoted(dm05), oracle));
  ASSERT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_NE(
      ok.output.find("deeplabv3_mnv2_dm05_pascal_quant                   2               2 100%"),
      std::string::npos)
      << ok.output;
  EXPECT_TRUE(std::filesystem::exists(dir / "out/deeplabv3_mnv2_dm05_pascal_quant.json"));

  struct Bad {
    std::string args, oracle, text;
  };
  for (const Bad& b : {Bad{quoted(dm05), "/nonexistent", "no TFLite oracle in /nonexistent"},
                       Bad{quoted(dir / "none.tflite"), oracle, "no model"},
                       Bad{"--sample x " + quoted(dm05), oracle, "--sample takes a number"},
                       Bad{"--bogus", oracle, "unknown flag --bogus"}}) {
    const auto result =
        test::run_command(conformance(b.args + " --out " + quoted(dir / "bad"), b.oracle));
    EXPECT_NE(result.exit_code, 0) << b.args;
    std::string last = result.output;
    while (!last.empty() && last.back() == '\n') last.pop_back();
    last = last.substr(last.find_last_of('\n') + 1);
    EXPECT_EQ(last.rfind("conformance: error: ", 0), 0u) << b.args << "\n" << result.output;
    EXPECT_NE(result.output.find(b.text), std::string::npos) << b.args << "\n" << result.output;
  }
  // A model qseg diff refuses (not an image model): its error, named.
  const auto text = dir / "not_a_model.tflite";
  std::ofstream(text) << "not a model";
  const auto refused = test::run_command(
      conformance("--sample 1 --out " + quoted(dir / "bad") + " " + quoted(text), oracle));
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_NE(refused.output.find("conformance: error: not_a_model: qseg: error:"), std::string::npos)
      << refused.output;
}

}  // namespace
}  // namespace qseg

// `qseg import` and `qseg train` from the command line: a short run end to end, and every bad input
// one `qseg: error:` line with a non-zero exit.
#include <gtest/gtest.h>

#include <fstream>

#include "test_util.h"
#include "train/support/synthetic_data.h"

namespace qseg::train {
namespace {

std::string qseg() { return test::qseg_binary().string(); }

TEST(TrainCliTest, ImportTrainResumeEndToEnd) {
  const auto dir = test::temp_dir("cli_train");
  test::write_synthetic_segmentation_set(dir / "data", 6, 2, 48, 1);
  const std::string model = test::shared_path("models/deeplabv3_257_mv_gpu.tflite").string();
  test::CommandResult r = test::run_command(qseg() + " import --tflite " + model + " --out " +
                                            (dir / "float.ckpt").string() +
                                            " --output-stride 16 --input-size 65 --no-check");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("imported 55 convolutions"), std::string::npos) << r.output;
  const std::string common =
      " --data " + (dir / "data").string() + " --split train.txt --steps 4 --batch-size 2 " +
      "--crop-size 33 --base-lr 1e-4 --quantize-delay-step 1 --quiet --out " +
      (dir / "run").string();
  r = test::run_command(qseg() + " train --init " + (dir / "float.ckpt").string() + common +
                        " --stop-at-step 2");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = test::run_command(qseg() + " train --resume" + common + " --eval-data " +
                        (dir / "data").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("steps 3..4"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("simulated quantization"), std::string::npos) << r.output;
  EXPECT_TRUE(std::filesystem::exists(dir / "run" / "loss.svg"));
  // A flag file (TOML) works like the flags.
  std::ofstream(dir / "flags.toml")
      << "steps = 1\nbatch-size = 4\ncrop-size = 33\nquiet = true\nsplit = \"train.txt\"\n"
      << "data = [\"" << (dir / "data").string() << "\"]\n";
  r = test::run_command(qseg() + " train --config " + (dir / "flags.toml").string() +
                        " --batch-size 1 --init " + (dir / "float.ckpt").string() + " --out " +
                        (dir / "run2").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("training: 1 steps, batch 1, crop 33"), std::string::npos) << r.output;
}

// "pixel agreement 99.12% of ..." from `qseg compare`.
double pixel_agreement(const std::string& output) {
  const std::string key = "pixel agreement ";
  const size_t at = output.find(key);
  if (at == std::string::npos) return -1.0;
  return std::stod(output.substr(at + key.size()));
}

// A checkpoint goes through the same evaluator (photos, pre/post-processing, confusion matrix) as
// a .tflite file: the imported published models agree with the files they came from.
TEST(TrainCliTest, CheckpointsAreEvaluatedLikeTheirTfliteFiles) {
  const auto dir = test::temp_dir("cli_eval_checkpoint");
  const std::string data =
      " --data " + test::shared_path("coco-voc").string() + " --split val.txt --limit 3";
  const std::string float_model = test::shared_path("models/deeplabv3_257_mv_gpu.tflite").string();
  const std::string uint8_model =
      test::shared_path("models/deeplabv3_mnv2_dm05_pascal_quant.tflite").string();
  const std::string float_ckpt = (dir / "float257.ckpt").string();
  const std::string uint8_ckpt = (dir / "uint8.ckpt").string();
  // The float file at its own input size and output stride (import defaults to 513, OS 16).
  test::CommandResult r =
      test::run_command(qseg() + " import --no-check --input-size 257 --output-stride 8 --tflite " +
                        float_model + " --out " + float_ckpt);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = test::run_command(qseg() + " import --no-check --tflite " + uint8_model + " --out " +
                        uint8_ckpt);
  ASSERT_EQ(r.exit_code, 0) << r.output;

  // Float: libtorch and qseg's runtime compute the same logits; finished as scores like the file
  // (which upsamples to 257 inside, then the Segmenter samples at each photo pixel; the checkpoint
  // samples its 33x33 logits directly), the labels agree almost everywhere.
  r = test::run_command(qseg() + " compare --threads 2 --checkpoint-output scores --model " +
                        float_model + " --model " + float_ckpt + data);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("float32 (libtorch checkpoint)"), std::string::npos) << r.output;
  EXPECT_GE(pixel_agreement(r.output), 99.9) << r.output;

  // uint8: simulated quantization (float arithmetic on the file's grids) against integer
  // kernels; the whole-model agreement is the import check's (about 99.4% on the bird photo).
  r = test::run_command(qseg() + " compare --model " + uint8_model + " --model " + uint8_ckpt +
                        data);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("uint8 simulated (libtorch checkpoint)"), std::string::npos) << r.output;
  EXPECT_GE(pixel_agreement(r.output), 98.0) << r.output;

  // eval --checkpoint prints the usual table; --precision float runs the same weights in float.
  r = test::run_command(qseg() + " eval --precision float --checkpoint " + uint8_ckpt + data +
                        " --json " + (dir / "eval.json").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("input 513x513 float32 (libtorch checkpoint)"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("mIoU "), std::string::npos) << r.output;
  EXPECT_TRUE(std::filesystem::exists(dir / "eval.json"));

  test::expect_one_error_line("eval --checkpoint " + float_model + data,
                              "not a qseg training checkpoint");
  test::expect_one_error_line("eval --precision simulated --checkpoint " + float_ckpt + data,
                              "no activation range");
  test::expect_one_error_line("eval --precision halfway --checkpoint " + float_ckpt + data,
                              "--precision");
}

// Every command that reads models or photos takes the limit flags, and the limits reach the
// readers: eval and compare (models, photos, labels, report), convert (--graph, calibration
// photos), import (--tflite, --check-image) and train (its photos).
TEST(TrainCliTest, LimitFlagsReachEveryReader) {
  const auto dir = test::temp_dir("cli_limits");
  test::write_synthetic_segmentation_set(dir / "data", 1, 0, 1001, 5);  // 1.002 million pixels
  const std::string dm05 = test::shared_path("models/deeplabv3_mnv2_dm05_pascal_quant.tflite");
  const std::string dm10 = test::shared_path("models/deeplabv3_mnv2_pascal_quant.tflite");
  const std::string data = " --data " + (dir / "data").string() + " --split train.txt";
  const std::string pixels = "exceed the limit of 1000000 pixels";
  test::expect_one_error_line("eval --model " + dm05 + data + " --max-image-mp 1", pixels);
  test::expect_one_error_line("eval --model " + dm10 + data + " --max-model-mb 1",
                              "exceeds the model size limit of 1048576");
  test::expect_one_error_line("eval --model " + dm05 + data + " --max-arena-mb 1",
                              "above the arena limit of 1048576 bytes");
  test::expect_one_error_line("compare --model " + dm05 + " --model " + dm05 + data +
                                  " --max-ops 10",
                              "ops exceed the limit of 10");
  test::expect_one_error_line("compare --model " + dm05 + " --model " + dm05 + data +
                                  " --max-image-mp 1",
                              pixels);
  test::expect_one_error_line(
      "convert --graph " + dm05 + " --output " + (dir / "x.tflite").string() + " --max-tensors 10",
      "tensors exceed the limit of 10");
  test::expect_one_error_line(
      "import --tflite " + dm05 + " --out " + (dir / "x.ckpt").string() + " --max-ops 10",
      "ops exceed the limit of 10");
  test::expect_one_error_line("import --tflite " + dm05 + " --out " + (dir / "x.ckpt").string() +
                                  " --check-image " +
                                  (dir / "data/JPEGImages/synthetic_0.jpg").string() +
                                  " --max-image-mp 1",
                              pixels);
  test::expect_one_error_line("train --from-scratch --steps 1 --batch-size 1 --crop-size 65" + data +
                                  " --out " + (dir / "run").string() + " --max-image-mp 1",
                              pixels);
  // Raised, the same photo goes through.
  const test::CommandResult r = test::run_command(test::qseg_binary().string() + " eval --model " +
                                                  dm05 + data + " --max-image-mp 2 --report " +
                                                  (dir / "r.html").string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST(TrainCliTest, BadInputsAreOneErrorLine) {
  const auto dir = test::temp_dir("cli_train_errors");
  test::write_synthetic_segmentation_set(dir / "data", 2, 0, 40, 1);
  std::ofstream(dir / "corrupt.ckpt") << "QSEGCKPT and then nothing useful";
  const std::string data =
      " --data " + (dir / "data").string() + " --split train.txt --out " + (dir / "run").string();
  test::expect_one_error_line(
      "import --tflite " + (dir / "missing.tflite").string() + " --out x.ckpt", "missing.tflite");
  test::expect_one_error_line(
      "import --tflite " + (dir / "corrupt.ckpt").string() + " --out x.ckpt", "corrupt.ckpt");
  test::expect_one_error_line("import --tflite x --out y --output-stride 12", "--output-stride");
  test::expect_one_error_line("train --init " + (dir / "corrupt.ckpt").string() + data,
                              "corrupt.ckpt");
  test::expect_one_error_line("train --init " + (dir / "missing.ckpt").string() + data,
                              "missing.ckpt");
  test::expect_one_error_line("train --from-scratch --steps 0" + data, "--steps");
  test::expect_one_error_line("train --from-scratch --batch-norm sometimes" + data, "--batch-norm");
  test::expect_one_error_line("train --from-scratch --init a.ckpt" + data, "excludes");
  test::expect_one_error_line("train" + data, "--init");
  test::expect_one_error_line("train --from-scratch --depth-multiplier 0" + data,
                              "depth multiplier");
  test::expect_one_error_line("train --from-scratch --threads 0" + data, "--threads");
  test::expect_one_error_line("train --from-scratch --data " + (dir / "nowhere").string() +
                                  " --split train.txt --out " + (dir / "run").string(),
                              "nowhere");
  test::expect_one_error_line("train --resume" + data, "checkpoint.ckpt");
  std::ofstream(dir / "bad.toml") << "stepz = 3\n";
  test::expect_one_error_line("train --from-scratch --config " + (dir / "bad.toml").string() + data,
                              "stepz");
}

}  // namespace
}  // namespace qseg::train

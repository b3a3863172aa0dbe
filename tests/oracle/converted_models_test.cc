// Models written by `qseg convert`, run in the real TensorFlow Lite and in qseg's runtime on the
// same raw input (the bird photo at 513x513): every variant loads in TFLite, and qseg's default
// arithmetic gives exactly the real TFLite's labels for every quantized variant (float ones are
// held to float rounding: labels may differ only at near ties). scripts/conformance.sh checks
// the same on every shared photo. Fails, never skips, without the oracle (tests/oracle_util.h).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>

#include "oracle_util.h"
#include "qseg/interpreter.h"
#include "qseg/tflite.h"
#include "test_util.h"

namespace qseg {
namespace {

void run_qseg_command(const std::string& args) {
  const test::CommandResult r = test::run_command(test::qseg_binary().string() + " " + args);
  ASSERT_EQ(r.exit_code, 0) << args << "\n" << r.output;
}

TEST(RealTflite, ConvertedModelsAgreeWithQseg) {
  const auto dir = test::temp_dir("oracle_converted");
  const std::string ckpt = (dir / "dm05.ckpt").string();
  run_qseg_command("import --no-check --tflite " +
                   test::shared_path("models/deeplabv3_mnv2_dm05_pascal_quant.tflite").string() +
                   " --out " + ckpt);
  // One quantization-aware step moves weights and ranges off the file's grids, so the converter
  // computes its own (narrow-range weights, nudged activation grids).
  run_qseg_command("train --init " + ckpt + " --data " + test::shared_path("coco-voc").string() +
                   " --split train.txt --steps 1 --batch-size 1 --crop-size 65 --base-lr 1e-5 "
                   "--quantize-delay-step 0 --quiet --threads 2 --out " +
                   (dir / "qat").string());
  const std::string trained = (dir / "qat" / "checkpoint.ckpt").string();
  struct Variant {
    std::string name, args;
  };
  const std::vector<Variant> variants = {
      {"roundtrip_uint8", "--checkpoint " + ckpt},
      {"qat_uint8", "--checkpoint " + trained},
      {"qat_uint8_shared_concat", "--checkpoint " + trained + " --change-concat-input-ranges"},
      {"qat_int8_per_channel", "--checkpoint " + trained + " --per-channel-int8"},
      {"float_uint8_input", "--checkpoint " + trained +
                                " --inference-type FLOAT --inference-input-type QUANTIZED_UINT8"},
      {"ptq_uint8", "--tflite " + test::shared_path("models/deeplabv3_257_mv_gpu.tflite").string() +
                        " --calibrate " + test::shared_path("coco-voc").string() +
                        " --calibration-split train.txt --calibration-images 2"},
  };
  const std::vector<uint8_t> input =
      test::read_maybe_gzipped(test::shared_path("golden/bird_segmentation_513.rgb.gz"));
  for (const Variant& v : variants) {
    SCOPED_TRACE(v.name);
    const auto model = dir / (v.name + ".tflite");
    run_qseg_command("convert " + v.args + " --output " + model.string());
    auto real = test::run_real_tflite(model, input);
    ASSERT_TRUE(real.is_ok()) << real.status().message();
    const double agreement =
        test::int64_label_agreement(test::run_model_file(model, input), real.value());
    std::printf("%-26s ArgMax agreement qseg vs real TFLite %.5f\n", v.name.c_str(), agreement);
    if (v.name.rfind("float", 0) == 0) {
      EXPECT_GE(agreement, 0.999);
    } else {
      EXPECT_EQ(agreement, 1.0);
    }
    if (v.name == "roundtrip_uint8") {
      // Converted back with its own ranges: the original's output in real TFLite.
      auto original = test::run_real_tflite(
          test::shared_path("models/deeplabv3_mnv2_dm05_pascal_quant.tflite"), input);
      ASSERT_TRUE(original.is_ok()) << original.status().message();
      const double same = test::int64_label_agreement(real.value(), original.value());
      std::printf("%-26s ArgMax agreement with the original file, both in real TFLite %.5f\n",
                  v.name.c_str(), same);
      EXPECT_EQ(same, 1.0);
    }
  }
}

}  // namespace
}  // namespace qseg

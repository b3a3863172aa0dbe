// DeepLabV3+ decoders and ASPP with atrous rates through export and convert, at input shapes other
// than the checkpoint's (257x257, 321x321, 384x640), run in the real TensorFlow Lite and in qseg
// over 20 shared photos (10 of each folder, evenly spread, through the Segmenter's own
// preprocessing: qseg diff): uint8 and int8 labels and uint8 scores must be bit-identical on every
// photo. Models come from random checkpoints (tests/random_checkpoint.h) calibrated on 2 photos,
// and from a decoder trained from scratch for one quantization-aware step (its own ranges).
// scripts/decoder_conformance.sh checks the same on every shared photo. Fails, never skips,
// without the oracle (tests/oracle_util.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "eval/eval_test_util.h"
#include "oracle_util.h"
#include "qseg/tflite.h"
#include "random_checkpoint.h"
#include "test_util.h"

namespace qseg {
namespace {

using test::quoted;

constexpr int kPhotosPerFolder = 10;

test::CommandResult qseg_ok(const std::string& args) {
  test::CommandResult r = test::run_command(test::qseg_command(args));
  EXPECT_EQ(r.exit_code, 0) << args << "\n" << r.output;
  return r;
}

// kPhotosPerFolder photos of each shared folder, evenly spread over its sorted files.
std::string sampled_photos() {
  std::string list;
  for (const char* folder : {"coco-voc/JPEGImages", "voc2012/JPEGImages"}) {
    std::vector<std::filesystem::path> all;
    for (const auto& entry : std::filesystem::directory_iterator(test::shared_path(folder)))
      if (entry.path().extension() == ".jpg") all.push_back(entry.path());
    std::sort(all.begin(), all.end());
    EXPECT_GE(all.size(), size_t{kPhotosPerFolder}) << folder;
    for (size_t k = 0; k < kPhotosPerFolder && !all.empty(); ++k)
      list += " " + quoted(all[k * all.size() / kPhotosPerFolder]);
  }
  return list;
}

// qseg against the real TFLite on the sampled photos: every output bit-identical.
void expect_bit_identical_to_tflite(const std::filesystem::path& model) {
  const auto json = model.parent_path() / (model.stem().string() + "_diff.json");
  qseg_ok("diff --model " + quoted(model) + " --oracle " + quoted(test::tflite_oracle_dir()) +
          " --json " + quoted(json) + sampled_photos());
  std::ifstream in(json);
  ASSERT_TRUE(in) << json;
  const nlohmann::json summary = nlohmann::json::parse(in)["summary"];
  const int inputs = summary["inputs"].get<int>(), identical = summary["identical"].get<int>();
  std::printf("%-40s %d of %d photos bit-identical, worst pixel agreement %.5f\n",
              model.filename().c_str(), identical, inputs,
              summary["worst_agreement"].get<double>());
  EXPECT_EQ(inputs, 2 * kPhotosPerFolder);
  EXPECT_EQ(identical, inputs) << "worst: " << summary["worst_input"];
}

// The input and output shapes a converted model must have.
void expect_shapes(const std::filesystem::path& model, int height, int width, bool labels) {
  auto graph = read_tflite_file(model);
  ASSERT_TRUE(graph.is_ok()) << graph.status().message();
  const Graph& g = graph.value();
  EXPECT_EQ(g.tensors[g.inputs[0]].shape, (std::vector<int32_t>{1, height, width, 3}));
  const std::vector<int32_t>& out = g.tensors[g.outputs[0]].shape;
  ASSERT_GE(out.size(), 3u);
  EXPECT_EQ(out[1], height);
  EXPECT_EQ(out[2], width);
  EXPECT_EQ(g.tensors[g.outputs[0]].type, labels ? DataType::kInt64 : DataType::kUInt8);
}

struct Variant {
  std::string name, flags;
  bool labels = true;
};

const std::vector<Variant> kUint8AndInt8 = {{"uint8", ""}, {"int8", "--per-channel-int8"}};

// A random checkpoint of `config`, converted at height x width (calibrated on 2 photos) to each
// variant, each bit-identical with the real TFLite.
void check_config(const std::string& name, model::DeepLabConfig config, int height, int width,
                  const std::vector<Variant>& variants) {
  const auto dir = test::temp_dir("oracle_decoder_" + name);
  config.depth_multiplier = 0.5f;
  auto checkpoint = test::random_checkpoint(config);
  ASSERT_TRUE(checkpoint.is_ok()) << checkpoint.status().message();
  const auto ckpt = dir / (name + ".ckpt");
  ASSERT_TRUE(model::write_checkpoint_file(ckpt, checkpoint.value()).is_ok());
  for (const Variant& v : variants) {
    SCOPED_TRACE(name + " " + v.name);
    const auto model = dir / (name + "_" + v.name + ".tflite");
    qseg_ok("convert --checkpoint " + quoted(ckpt) + " --input-shape 1," + std::to_string(height) +
            "," + std::to_string(width) + ",3 --calibrate " +
            quoted(test::shared_path("coco-voc")) +
            " --calibration-split train.txt --calibration-images 2 " + v.flags + " --output " +
            quoted(model));
    expect_shapes(model, height, width, v.labels);
    expect_bit_identical_to_tflite(model);
  }
}

TEST(RealTfliteDecoder, AsppRates6_12_18AtStride16At257x257) {
  model::DeepLabConfig config;
  config.aspp_rates = {6, 12, 18};
  check_config("aspp_os16", config, 257, 257, kUint8AndInt8);
}

TEST(RealTfliteDecoder, DecoderAtStride4WithAsppRatesAt321x321) {
  model::DeepLabConfig config;
  config.aspp_rates = {6, 12, 18};
  config.decoder_output_stride = 4;
  // Also the scores (the logits resized to the input) in uint8: every output byte, not only labels.
  std::vector<Variant> variants = kUint8AndInt8;
  variants.push_back({"uint8_logits", "--output-arrays logits", false});
  check_config("decoder4_os16", config, 321, 321, variants);
}

TEST(RealTfliteDecoder, DecoderAtStride4AtOutputStride8WithRates12_24_36At257x257) {
  model::DeepLabConfig config;
  config.output_stride = 8;
  config.aspp_rates = {12, 24, 36};
  config.decoder_output_stride = 4;
  check_config("decoder4_os8", config, 257, 257, kUint8AndInt8);
}

TEST(RealTfliteDecoder, DecoderAtStride8At384x640) {
  model::DeepLabConfig config;
  config.decoder_output_stride = 8;
  check_config("decoder8_os16", config, 384, 640, kUint8AndInt8);
}

// Trained with quantization from the first step, the checkpoint carries a range for every tensor
// the decoder and ASPP add (resize, projection, concat, each separable convolution): it converts
// without calibration, with the concat inputs sharing the concat's range or requantized.
TEST(RealTfliteDecoder, QuantizationAwareDecoderConvertsWithItsOwnRanges) {
  const auto dir = test::temp_dir("oracle_decoder_qat");
  qseg_ok(
      "train --from-scratch --depth-multiplier 0.5 --aspp-rates 6,12,18 "
      "--decoder-output-stride 4 --data " +
      quoted(test::shared_path("coco-voc")) +
      " --split train.txt --steps 1 --batch-size 1 --crop-size 65 --quantize-delay-step 0 "
      "--quiet --threads 2 --out " +
      quoted(dir / "run"));
  const auto ckpt = dir / "run" / "checkpoint.ckpt";
  for (const Variant& v :
       std::vector<Variant>{{"uint8", ""},
                            {"uint8_shared_concat", "--change-concat-input-ranges"},
                            {"int8", "--per-channel-int8"}}) {
    SCOPED_TRACE(v.name);
    const auto model = dir / ("qat_decoder4_" + v.name + ".tflite");
    qseg_ok("convert --checkpoint " + quoted(ckpt) + " --input-shape 1,257,257,3 " + v.flags +
            " --output " + quoted(model));
    expect_shapes(model, 257, 257, true);
    expect_bit_identical_to_tflite(model);
  }
}

}  // namespace
}  // namespace qseg

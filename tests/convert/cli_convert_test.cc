// `qseg export` and `qseg convert` from the command line: the written files load in qseg's
// runtime and compute what they should (the round trip, int8 per channel, post-training
// quantization, the exported frozen graph), and every bad input is one error line.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <tuple>

#include "imgproc/image_io.h"
#include "model/checkpoint_file.h"
#include "model/imported_model.h"
#include "model/tflite_weights.h"
#include "qseg/class_set.h"
#include "qseg/interpreter.h"
#include "qseg/tflite.h"
#include "test_util.h"

namespace qseg {
namespace {

std::string qseg() { return test::qseg_binary().string(); }

test::CommandResult qseg_ok(const std::string& args) {
  test::CommandResult r = test::run_command(qseg() + " " + args);
  EXPECT_EQ(r.exit_code, 0) << args << "\n" << r.output;
  return r;
}

const std::vector<uint8_t>& bird_513() {
  static const std::vector<uint8_t> bytes =
      test::read_maybe_gzipped(test::shared_path("golden/bird_segmentation_513.rgb.gz"));
  return bytes;
}

TEST(ConvertCliTest, PublishedUint8ModelConvertsBackToItself) {
  const auto dir = test::temp_dir("cli_convert_roundtrip");
  const auto published = test::shared_path("models/deeplabv3_mnv2_dm05_pascal_quant.tflite");
  qseg_ok("import --no-check --tflite " + published.string() + " --out " +
          (dir / "dm05.ckpt").string());
  const test::CommandResult r =
      qseg_ok("convert --checkpoint " + (dir / "dm05.ckpt").string() + " --output " +
              (dir / "dm05.tflite").string() + " --input-shape 1,513,513,3 --mean 128 --std 128");
  EXPECT_NE(r.output.find("0.867 G multiply-adds"), std::string::npos) << r.output;
  const auto original = test::run_model_file(published, bird_513());
  const double same =
      test::int64_label_agreement(test::run_model_file(dir / "dm05.tflite", bird_513()), original);
  std::printf("round trip through the files: ArgMax agreement %.5f\n", same);
  EXPECT_GE(same, 0.999);

  // int8 per channel from the same weights: TFLite's other scheme, close to uint8's labels.
  qseg_ok("convert --per-channel-int8 --checkpoint " + (dir / "dm05.ckpt").string() + " --output " +
          (dir / "dm05_int8.tflite").string());
  auto int8 = read_tflite_file(dir / "dm05_int8.tflite");
  ASSERT_TRUE(int8.is_ok()) << int8.status().message();
  int per_channel = 0;
  for (const Tensor& t : int8.value().tensors)
    per_channel += t.type == DataType::kInt8 && t.quant.scale.size() > 1;
  EXPECT_EQ(per_channel, 55);
  const double int8_same = test::int64_label_agreement(
      test::run_model_file(dir / "dm05_int8.tflite", bird_513()), original);
  std::printf("int8 per channel: ArgMax agreement with the uint8 file %.5f\n", int8_same);
  EXPECT_GE(int8_same, 0.98);
}

TEST(ConvertCliTest, ModelsCarryTheCheckpointsOrTheGivenClassNames) {
  const auto dir = test::temp_dir("cli_convert_labels");
  const auto published = test::shared_path("models/deeplabv3_mnv2_dm05_pascal_quant.tflite");
  auto graph = read_tflite_file(published);
  ASSERT_TRUE(graph.is_ok());
  auto weights = model::extract_deeplab_weights(*graph, published.string());
  ASSERT_TRUE(weights.is_ok()) << weights.status().message();
  auto checkpoint = model::imported_checkpoint(*weights, 16, 129);
  ASSERT_TRUE(checkpoint.is_ok()) << checkpoint.status().message();
  // A checkpoint naming its 21 classes (as training writes class_names and class_colors).
  std::vector<std::string> names;
  for (int c = 0; c < 21; ++c) names.push_back("thing " + std::to_string(c));
  auto classes = ClassSet::create(names, {});
  ASSERT_TRUE(classes.is_ok());
  model::set_checkpoint_classes(&*checkpoint, *classes);
  const auto ckpt = dir / "named.ckpt";
  ASSERT_TRUE(model::write_checkpoint_file(ckpt, *checkpoint).is_ok());
  auto file = model::read_checkpoint_file(ckpt);
  ASSERT_TRUE(file.is_ok());
  auto read_back = model::checkpoint_classes(file.value(), ckpt.string());
  ASSERT_TRUE(read_back.is_ok() && read_back->has_value());
  EXPECT_EQ(**read_back, *classes);

  const std::string convert =
      "convert --checkpoint " + ckpt.string() + " --input-shape 1,129,129,3";
  qseg_ok(convert + " --output " + (dir / "named.tflite").string());
  auto named = read_tflite_file(dir / "named.tflite");
  ASSERT_TRUE(named.is_ok());
  EXPECT_EQ(named->class_labels, classes->to_text());
  const test::CommandResult shown = qseg_ok("inspect " + (dir / "named.tflite").string());
  EXPECT_NE(shown.output.find("classes: 21, named in the model"), std::string::npos);
  EXPECT_NE(shown.output.find(" thing 20\n"), std::string::npos) << shown.output;

  // --labels wins; its colours are kept.
  std::string labels;
  for (int c = 0; c < 21; ++c)
    labels += "mine " + std::to_string(c) + (c == 1 ? " #102030" : "") + "\n";
  std::ofstream(dir / "labels.txt") << labels;
  qseg_ok(convert + " --labels " + (dir / "labels.txt").string() + " --output " +
          (dir / "mine.tflite").string());
  auto mine = ClassSet::parse(read_tflite_file(dir / "mine.tflite")->class_labels, "mine");
  ASSERT_TRUE(mine.is_ok()) << mine.status().message();
  EXPECT_EQ(mine->name(1), "mine 1");
  EXPECT_EQ(mine->color(1), (Rgb{0x10, 0x20, 0x30}));
  EXPECT_EQ(mine->color(2), ClassSet::voc().color(2));  // 21 classes: VOC's default colours

  // Another count, or a bad file, is one error line naming it; nothing is written.
  std::ofstream(dir / "two.txt") << "a\nb\n";
  test::expect_one_error_line(
      convert + " --labels " + (dir / "two.txt").string() + " --output " +
          (dir / "two.tflite").string(),
      "--labels " + (dir / "two.txt").string() + ": 2 class names, but the model has 21 classes");
  EXPECT_FALSE(std::filesystem::exists(dir / "two.tflite"));
  test::expect_one_error_line(convert + " --labels " + (dir / "absent.txt").string() +
                                  " --output " + (dir / "x.tflite").string(),
                              "cannot open labels file " + (dir / "absent.txt").string());
}

TEST(ConvertCliTest, ExportedGraphConvertsLikeTheCheckpoint) {
  const auto dir = test::temp_dir("cli_convert_export");
  const auto published = test::shared_path("models/deeplabv3_mnv2_dm05_pascal_quant.tflite");
  qseg_ok("import --no-check --tflite " + published.string() + " --out " +
          (dir / "dm05.ckpt").string() + " --input-size 129");
  // Two quantization-aware steps: trained weights (on their min/max grids) and moved ranges.
  qseg_ok("train --init " + (dir / "dm05.ckpt").string() + " --data " +
          test::shared_path("coco-voc").string() +
          " --split train.txt --steps 2 --batch-size 1 --crop-size 65 --base-lr 1e-5 "
          "--quantize-delay-step 0 --quiet --threads 2 --out " +
          (dir / "run").string());
  const std::string checkpoint = (dir / "run" / "checkpoint.ckpt").string();
  const test::CommandResult e =
      qseg_ok("export --checkpoint " + checkpoint + " --out " + (dir / "frozen.tflite").string());
  EXPECT_NE(e.output.find("batch norm folded"), std::string::npos) << e.output;
  auto frozen = read_tflite_file(dir / "frozen.tflite");
  ASSERT_TRUE(frozen.is_ok()) << frozen.status().message();
  EXPECT_EQ(frozen.value().tensors[frozen.value().inputs[0]].type, DataType::kFloat32);
  qseg_ok("convert --graph " + (dir / "frozen.tflite").string() + " --output " +
          (dir / "from_graph.tflite").string());
  qseg_ok("convert --checkpoint " + checkpoint + " --output " +
          (dir / "from_checkpoint.tflite").string());
  std::ifstream a(dir / "from_graph.tflite", std::ios::binary);
  std::ifstream b(dir / "from_checkpoint.tflite", std::ios::binary);
  const std::string bytes_a((std::istreambuf_iterator<char>(a)), {});
  const std::string bytes_b((std::istreambuf_iterator<char>(b)), {});
  EXPECT_GT(bytes_a.size(), 600000u);
  EXPECT_EQ(bytes_a.size(), bytes_b.size());
  // The same model but for the description string.
  auto ga = read_tflite_file(dir / "from_graph.tflite");
  auto gb = read_tflite_file(dir / "from_checkpoint.tflite");
  ASSERT_TRUE(ga.is_ok() && gb.is_ok());
  ASSERT_EQ(ga.value().tensors.size(), gb.value().tensors.size());
  for (size_t i = 0; i < ga.value().tensors.size(); ++i) {
    EXPECT_EQ(ga.value().tensors[i].data, gb.value().tensors[i].data) << i;
    EXPECT_EQ(ga.value().tensors[i].quant.scale, gb.value().tensors[i].quant.scale) << i;
    EXPECT_EQ(ga.value().tensors[i].quant.zero_point, gb.value().tensors[i].quant.zero_point) << i;
  }
}

TEST(ConvertCliTest, PostTrainingQuantizationFromAFloatTflite) {
  const auto dir = test::temp_dir("cli_convert_ptq");
  const auto float_model = test::shared_path("models/deeplabv3_257_mv_gpu.tflite");
  const test::CommandResult r = qseg_ok(
      "convert --tflite " + float_model.string() + " --input-shape 1,129,129,3 --output " +
      (dir / "ptq.tflite").string() + " --calibrate " + test::shared_path("coco-voc").string() +
      " --calibration-split train.txt --calibration-images 4");
  EXPECT_NE(r.output.find("calibrated on 4 photos"), std::string::npos) << r.output;
  auto graph = read_tflite_file(dir / "ptq.tflite");
  ASSERT_TRUE(graph.is_ok()) << graph.status().message();
  EXPECT_EQ(graph.value().tensors[graph.value().inputs[0]].type, DataType::kUInt8);
  // The percentile method writes a model too, with narrower ranges on the widest tensors.
  qseg_ok("convert --tflite " + float_model.string() + " --input-shape 1,129,129,3 --output " +
          (dir / "ptq_p.tflite").string() + " --calibrate " +
          test::shared_path("coco-voc").string() +
          " --calibration-split train.txt --calibration-images 2 --calibration-method percentile "
          "--percentile 99.9");
  auto p = read_tflite_file(dir / "ptq_p.tflite");
  ASSERT_TRUE(p.is_ok()) << p.status().message();
  const Tensor& logits_minmax = graph.value().tensors[graph.value().ops.back().inputs[0]];
  const Tensor& logits_percentile = p.value().tensors[p.value().ops.back().inputs[0]];
  EXPECT_LT(logits_percentile.quant.scale[0], logits_minmax.quant.scale[0]);
}

TEST(ConvertCliTest, BadInputsAreOneErrorLine) {
  const auto dir = test::temp_dir("cli_convert_errors");
  std::ofstream(dir / "corrupt.ckpt") << "QSEGCKPT but nothing else";
  const auto float_model = test::shared_path("models/deeplabv3_257_mv_gpu.tflite").string();
  const std::string out = " --output " + (dir / "out.tflite").string();
  test::expect_one_error_line("convert --checkpoint " + (dir / "missing.ckpt").string() + out,
                              "missing.ckpt");
  test::expect_one_error_line("convert --checkpoint " + (dir / "corrupt.ckpt").string() + out,
                              "corrupt.ckpt");
  test::expect_one_error_line("convert" + out, "exactly one of");
  test::expect_one_error_line("convert --checkpoint a --graph b" + out, "exactly one of");
  test::expect_one_error_line("convert --tflite " + float_model + " --input-shape 1,2,3" + out,
                              "--input-shape");
  for (const char* shape :
       {"2,257,257,3", "1,257,257,1", "1,16,257,3", "1,257,4098,3", "1,257,257,3,1"}) {
    SCOPED_TRACE(shape);
    test::expect_one_error_line("convert --tflite " + float_model + " --input-shape " + shape + out,
                                "--input-shape");
    test::expect_one_error_line("export --checkpoint " + (dir / "missing.ckpt").string() +
                                    " --input-shape " + shape + " --out " +
                                    (dir / "g.tflite").string(),
                                "--input-shape");
  }
  test::expect_one_error_line("convert --tflite " + float_model + " --inference-type INT4" + out,
                              "--inference-type");
  // A float model has no ranges: uint8 needs quantization-aware training or calibration.
  test::expect_one_error_line("convert --tflite " + float_model + " --input-shape 1,65,65,3" + out,
                              "has no activation range");
  test::expect_one_error_line("convert --graph " + float_model + out, "has no activation range");
  test::expect_one_error_line("export --checkpoint " + (dir / "missing.ckpt").string() + " --out " +
                                  (dir / "g.tflite").string(),
                              "missing.ckpt");
  // An output that cannot be written is found before the calibration, not after it.
  const test::CommandResult unwritable = test::run_command(
      test::qseg_binary().string() + " convert --tflite " + float_model +
      " --input-shape 1,65,65,3 --output /nonexistent/dir/m.tflite --calibrate " +
      test::shared_path("coco-voc").string() + " --calibration-split train.txt 2>&1");
  EXPECT_EQ(unwritable.exit_code, 1) << unwritable.output;
  EXPECT_NE(unwritable.output.find("qseg: error: /nonexistent/dir/m.tflite: the folder "
                                   "/nonexistent/dir does not exist"),
            std::string::npos)
      << unwritable.output;
  EXPECT_EQ(unwritable.output.find("calibrat"), std::string::npos) << unwritable.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "out.tflite"));
}

// The shared float model at a non-square input (129 x 193, height x width) by post-training
// quantization: the written file has that input and output, --graph refuses another shape, and
// `qseg segment` and `qseg eval` fit landscape and portrait photos to it.
TEST(ConvertCliTest, NonSquareInputShapeThroughConvertSegmentAndEval) {
  const auto dir = test::temp_dir("cli_convert_non_square");
  const auto float_model = test::shared_path("models/deeplabv3_257_mv_gpu.tflite");
  const auto model = dir / "ptq_129x193.tflite";
  const test::CommandResult r =
      qseg_ok("convert --tflite " + float_model.string() + " --input-shape 1,129,193,3 --output " +
              model.string() + " --calibrate " + test::shared_path("coco-voc").string() +
              " --calibration-split train.txt --calibration-images 2");
  EXPECT_NE(r.output.find("uint8 129x193 -> ArgMax"), std::string::npos) << r.output;
  auto graph = read_tflite_file(model);
  ASSERT_TRUE(graph.is_ok()) << graph.status().message();
  const Graph& g = graph.value();
  EXPECT_EQ(g.tensors[g.inputs[0]].shape, (std::vector<int32_t>{1, 129, 193, 3}));
  EXPECT_EQ(g.tensors[g.outputs[0]].shape, (std::vector<int32_t>{1, 129, 193}));

  // A frozen graph keeps its shape: another --input-shape is refused, its own is fine.
  qseg_ok("import --no-check --tflite " + float_model.string() + " --out " +
          (dir / "float.ckpt").string());
  const test::CommandResult e =
      qseg_ok("export --checkpoint " + (dir / "float.ckpt").string() +
              " --input-shape 1,129,193,3 --out " + (dir / "frozen.tflite").string());
  EXPECT_NE(e.output.find("input 129x193"), std::string::npos) << e.output;
  test::expect_one_error_line("convert --graph " + (dir / "frozen.tflite").string() +
                                  " --input-shape 1,193,129,3 --output " +
                                  (dir / "x.tflite").string(),
                              "has input 129x193");

  // Landscape (500x333) and portrait (333x500) photos: masks at the photos' own sizes.
  const auto landscape = test::shared_path("voc2012/JPEGImages/2007_000042.jpg");
  auto photo = read_image(landscape);
  ASSERT_TRUE(photo.is_ok()) << photo.status().message();
  Image portrait(photo->height, photo->width, 3);  // the photo turned a quarter
  for (int y = 0; y < portrait.height; ++y)
    for (int x = 0; x < portrait.width; ++x)
      std::memcpy(portrait.row(y) + x * 3, photo->row(photo->height - 1 - x) + y * 3, 3);
  ASSERT_TRUE(write_png(dir / "portrait.png", portrait).is_ok());
  const test::CommandResult seg =
      qseg_ok("segment --model " + model.string() + " --out " + (dir / "masks").string() + " " +
              landscape.string() + " " + (dir / "portrait.png").string());
  EXPECT_NE(seg.output.find("(193x129 input"), std::string::npos) << seg.output;
  for (const auto& [name, w, h] : {std::tuple{"2007_000042.png", photo->width, photo->height},
                                   std::tuple{"portrait.png", portrait.width, portrait.height}}) {
    auto mask = read_label_image(dir / "masks" / name);
    ASSERT_TRUE(mask.is_ok()) << name << ": " << mask.status().message();
    EXPECT_EQ(mask->width, w) << name;
    EXPECT_EQ(mask->height, h) << name;
  }
  const test::CommandResult eval =
      qseg_ok("eval --model " + model.string() + " --data " +
              test::shared_path("voc2012").string() + " --split val_available.txt --limit 3");
  EXPECT_NE(eval.output.find("input 193x129 uint8"), std::string::npos) << eval.output;
  EXPECT_NE(eval.output.find("3/3 photos"), std::string::npos) << eval.output;
}

}  // namespace
}  // namespace qseg

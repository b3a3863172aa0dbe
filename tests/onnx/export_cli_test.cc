// `qseg export --model M.tflite --onnx OUT.onnx`: writes exactly what export_onnx returns, says
// what it wrote, is documented in its help, and every bad input (flags, an unwritable path, an op
// it cannot map) is one error line with the exit status of its kind.
#include <gtest/gtest.h>

#include "onnx/onnx_export.h"
#include "op_graphs.h"
#include "qseg/tflite.h"
#include "test_util.h"

namespace qseg {
namespace {

std::string dm05() {
  return test::shared_path("models/deeplabv3_mnv2_dm05_pascal_quant.tflite").string();
}

TEST(ExportCli, WritesWhatTheExporterReturns) {
  const auto dir = test::temp_dir("export_cli_writes");
  for (const bool uint8_weights : {false, true}) {
    const auto out = dir / (uint8_weights ? "u8.onnx" : "m.onnx");
    const test::CommandResult r =
        test::run_command(test::qseg_binary().string() + " export --model " + dm05() + " --onnx " +
                          out.string() + (uint8_weights ? " --onnx-uint8-weights" : ""));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("wrote " + out.string() + ": "), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("ONNX opset 13"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("uint8 [1x513x513x3] -> int64 [1x513x513]"), std::string::npos)
        << r.output;
    auto graph = read_tflite_file(dm05());
    ASSERT_TRUE(graph.is_ok());
    OnnxExportOptions options;
    options.uint8_weights = uint8_weights;
    auto expected = export_onnx(graph.value(), dm05(), options);
    ASSERT_TRUE(expected.is_ok()) << expected.status().message();
    const std::vector<uint8_t> bytes = test::read_file(out);
    EXPECT_TRUE(bytes == std::vector<uint8_t>(expected->bytes.begin(), expected->bytes.end()));
  }
}

TEST(ExportCli, HelpDocumentsTheOnnxExport) {
  const test::CommandResult r = test::run_command(test::qseg_binary().string() + " help export");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* flag : {"--model", "--onnx", "--onnx-uint8-weights", "--checkpoint", "--out"})
    EXPECT_NE(r.output.find(flag), std::string::npos) << flag << "\n" << r.output;
}

TEST(ExportCli, BadFlagsAreOneErrorLineAndExitTwo) {
  const auto dir = test::temp_dir("export_cli_flags");
  const std::string out = (dir / "m.onnx").string();
  test::expect_one_error_line("export --model " + dm05(), "give --onnx OUT.onnx with --model");
  test::expect_one_error_line("export --model " + dm05() + " --checkpoint x.ckpt --onnx " + out,
                              "give --checkpoint CKPT or --model M.tflite (one of them)");
  test::expect_one_error_line("export --model " + dm05() + " --onnx " + out + " --out f.tflite",
                              "with --model give --onnx");
  for (const std::string& args :
       {"export --model " + dm05(), "export --model " + dm05() + " --checkpoint c --onnx " + out}) {
    const test::CommandResult r = test::run_command(test::qseg_binary().string() + " " + args);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.output;
  }
}

TEST(ExportCli, UnwritablePathAndMissingModelAreOneErrorLine) {
  test::expect_one_error_line(
      "export --model " + dm05() + " --onnx /nonexistent/dir/m.onnx",
      "/nonexistent/dir/m.onnx: the folder /nonexistent/dir does not exist");
  const auto dir = test::temp_dir("export_cli_missing");
  test::expect_one_error_line(
      "export --model " + (dir / "none.tflite").string() + " --onnx " + (dir / "m.onnx").string(),
      "none.tflite");
  EXPECT_FALSE(std::filesystem::exists(dir / "m.onnx"));
}

TEST(ExportCli, AnOpItCannotMapIsOneErrorLineNamingOpAndIndex) {
  test::GraphMaker m;
  const int32_t x = m.input("x", DataType::kUInt8, {1, 2, 2, 3}, 0.1f, 0);
  const int32_t multiples =
      m.constant("multiples", DataType::kInt32, {4}, test::int32_bytes({1, 2, 2, 1}));
  const int32_t y = m.activation("y", DataType::kUInt8, {1, 4, 4, 3}, 0.1f, 0);
  m.op(OpType::kTile, {x, multiples}, {y}, std::monostate{});
  const auto dir = test::temp_dir("export_cli_tile");
  ASSERT_TRUE(write_tflite_file(m.done({y}), dir / "tile.tflite").is_ok());
  test::expect_one_error_line("export --model " + (dir / "tile.tflite").string() + " --onnx " +
                                  (dir / "tile.onnx").string(),
                              "tile.tflite: op 0 (TILE): ONNX export does not map this op");
  EXPECT_FALSE(std::filesystem::exists(dir / "tile.onnx"));
  EXPECT_FALSE(std::filesystem::exists(dir / "tile.onnx.tmp"));
}

}  // namespace
}  // namespace qseg

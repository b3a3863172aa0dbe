// The models qseg ships (models/*.tflite) against their card (models/README.md): the sha256 of
// every file the card lists, each file's interface (the seed's convert flags for the uint8 files),
// and the card's QAT and PTQ mIoU on VOC val reproduced by qseg eval. scripts/conformance.sh runs
// the same files in the real TFLite.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "eval/eval_test_util.h"
#include "qseg/tflite.h"

namespace qseg {
namespace {

using test::quoted;

const std::filesystem::path kModels = std::filesystem::path(QSEG_SOURCE_DIR) / "models";

std::string card() {
  std::ifstream in(kModels / "README.md");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The cells of the card's table row that starts with "| label |".
std::vector<std::string> card_row(const std::string& label) {
  std::istringstream lines(card());
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("| " + label + " |", 0) != 0) continue;
    std::vector<std::string> cells;
    std::istringstream row(line.substr(1));
    for (std::string cell; std::getline(row, cell, '|');) {
      const auto first = cell.find_first_not_of(' ');
      const auto last = cell.find_last_not_of(' ');
      cells.push_back(first == std::string::npos ? "" : cell.substr(first, last - first + 1));
    }
    return cells;
  }
  return {};
}

TEST(ShippedModels, FilesMatchTheirCard) {
  for (const std::string name :
       {"qseg_dm05_float.tflite", "qseg_dm05_qat_uint8.tflite", "qseg_dm05_ptq_uint8.tflite"}) {
    const auto path = kModels / name;
    ASSERT_TRUE(std::filesystem::exists(path)) << path;
    const auto row = card_row("`" + name + "`");
    ASSERT_EQ(row.size(), 4u) << "no row for " << name << " in models/README.md";
    const auto sum = test::run_command("sha256sum " + quoted(path));
    ASSERT_EQ(sum.exit_code, 0) << sum.output;
    EXPECT_EQ("`" + sum.output.substr(0, 64) + "`", row[3]) << name;
    std::string bytes = row[2];
    bytes.erase(std::remove(bytes.begin(), bytes.end(), ','), bytes.end());
    EXPECT_EQ(std::to_string(std::filesystem::file_size(path)), bytes) << name;

    auto graph = read_tflite_file(path);
    ASSERT_TRUE(graph.is_ok()) << graph.status().message();
    const Graph& g = graph.value();
    ASSERT_EQ(g.inputs.size(), 1u);
    ASSERT_EQ(g.outputs.size(), 1u);
    const Tensor& in = g.tensors[g.inputs[0]];
    const Tensor& out = g.tensors[g.outputs[0]];
    EXPECT_EQ(in.shape, (std::vector<int32_t>{1, 513, 513, 3})) << name;
    EXPECT_EQ(out.type, DataType::kInt64) << name;
    EXPECT_EQ(out.shape, (std::vector<int32_t>{1, 513, 513})) << name;
    EXPECT_EQ(g.ops.back().type, OpType::kArgMax) << name;
    if (name == "qseg_dm05_float.tflite") {
      EXPECT_EQ(in.type, DataType::kFloat32);
    } else {
      // --mean 128 --std 128: real = (q - 128) / 128.
      EXPECT_EQ(in.type, DataType::kUInt8) << name;
      ASSERT_EQ(in.quant.scale.size(), 1u) << name;
      EXPECT_FLOAT_EQ(in.quant.scale[0], 1.0f / 128) << name;
      EXPECT_EQ(in.quant.zero_point[0], 128) << name;
      // --change-concat-input-ranges: every input of the concat has the concat's range.
      for (const Op& op : g.ops) {
        if (op.type != OpType::kConcatenation) continue;
        const Tensor& joined = g.tensors[op.outputs[0]];
        for (int32_t t : op.inputs) {
          EXPECT_EQ(g.tensors[t].quant.scale, joined.quant.scale)
              << name << " " << g.tensors[t].name;
          EXPECT_EQ(g.tensors[t].quant.zero_point, joined.quant.zero_point) << name;
        }
      }
    }
  }
}

TEST(ShippedModels, CardsVocValNumbersReproduce) {
  const auto dir = test::temp_dir("shipped_models");
  for (const auto& [label, file] : {std::pair<std::string, std::string>{"QAT uint8", "qat"},
                                    std::pair<std::string, std::string>{"PTQ uint8", "ptq"}}) {
    const auto row = card_row(label);
    ASSERT_GE(row.size(), 2u) << "no row '" << label << "' in models/README.md";
    const auto json = dir / (file + ".json");
    test::run_ok("eval --model " + quoted(kModels / ("qseg_dm05_" + file + "_uint8.tflite")) +
                 " --data " + quoted(test::voc_root()) +
                 " --split val_available.txt --threads 2 --json " + quoted(json));
    const double miou = test::read_json(json)["miou"].get<double>();
    char printed[32];
    std::snprintf(printed, sizeof printed, "%.2f%%", 100 * miou);
    EXPECT_EQ(row[1], printed) << label << " on VOC val (198 photos)";
  }
}

}  // namespace
}  // namespace qseg

// `qseg bench --against tflite` times the real TensorFlow Lite in the same run and writes its
// median beside qseg's.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "oracle_util.h"
#include "test_util.h"

namespace qseg {
namespace {

TEST(RealTflite, BenchAgainstTfliteWritesBothMedians) {
  const auto dir = test::temp_dir("oracle_bench");
  const test::CommandResult r = test::run_command(
      test::qseg_binary().string() + " bench --runs 1 --warmup 0 --against tflite --oracle " +
      test::tflite_oracle_dir().string() + " --model " +
      test::shared_path("models/deeplabv3_mnv2_dm05_pascal_quant.tflite").string() + " --json " +
      (dir / "bench.json").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("real TFLite"), std::string::npos) << r.output;
  std::ifstream in(dir / "bench.json");
  const nlohmann::json j = nlohmann::json::parse(in);
  EXPECT_GT(j["median_ms"].get<double>(), 0.0);
  EXPECT_GT(j["tflite_median_ms"].get<double>(), 0.0);
}

}  // namespace
}  // namespace qseg

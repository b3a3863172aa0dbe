// `qseg bench`: the figures it writes are those of the model (multiply-adds, arena, size) and a
// positive time; bad flags are one error line.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "qseg/kernel_isa.h"
#include "test_util.h"

namespace qseg {
namespace {

std::string qseg() { return test::qseg_binary().string(); }
std::string dm05() {
  return test::shared_path("models/deeplabv3_mnv2_dm05_pascal_quant.tflite").string();
}

TEST(BenchCli, WritesTheModelsFigures) {
  const auto dir = test::temp_dir("cli_bench");
  const test::CommandResult r = test::run_command(
      qseg() + " bench --runs 2 --warmup 0 --threads 2 --kernels reference --model " + dm05() +
      " --json " + (dir / "bench.json").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("CONV_2D"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("GMAC/s"), std::string::npos) << r.output;
  std::ifstream in(dir / "bench.json");
  const nlohmann::json j = nlohmann::json::parse(in);
  EXPECT_GT(j["median_ms"].get<double>(), 0.0);
  EXPECT_LE(j["min_ms"].get<double>(), j["median_ms"].get<double>());
  EXPECT_LE(j["median_ms"].get<double>(), j["max_ms"].get<double>());
  EXPECT_EQ(j["multiply_adds"].get<int64_t>(), 867496704);
  EXPECT_EQ(j["arena_bytes"].get<int64_t>(), 7632000);
  EXPECT_EQ(j["model_bytes"].get<int64_t>(), 760904);
  EXPECT_EQ(j["threads"].get<int>(), 2);
  EXPECT_EQ(j["kernels"].get<std::string>(), "reference");
  EXPECT_FALSE(j.contains("tflite_median_ms"));
}

// With optimized kernels the final RESIZE_BILINEAR + ARG_MAX run fused, so the 513x513x21
// tensor gets no memory: the arena is then the largest set of tensors live at once (op 4's
// input, 257x257x48, and output, 129x129x48, with alignment).
TEST(BenchCli, OptimizedKernelsNeedOnlyTheLargestLiveSet) {
  if (best_kernel_isa() == KernelIsa::kReference) GTEST_SKIP() << "no optimized kernels here";
  const auto dir = test::temp_dir("cli_bench_auto");
  const test::CommandResult r =
      test::run_command(qseg() + " bench --runs 1 --warmup 0 --model " + dm05() + " --json " +
                        (dir / "bench.json").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::ifstream in(dir / "bench.json");
  const nlohmann::json j = nlohmann::json::parse(in);
  EXPECT_EQ(j["kernels"].get<std::string>(), std::string(kernel_isa_name(best_kernel_isa())));
  const auto aligned = [](int64_t bytes) { return (bytes + 63) / 64 * 64; };
  EXPECT_EQ(j["arena_bytes"].get<int64_t>(), aligned(257 * 257 * 48) + aligned(129 * 129 * 48));
  EXPECT_NE(r.output.find("fused"), std::string::npos) << r.output;
}

// "Of peak" is against the peak of the kernels that ran, measured on this CPU, or none: the
// reference kernels have none, --peak-gmacs gives one for every op.
TEST(BenchCli, OfPeakIsForTheKernelsThatRan) {
  const std::string base = qseg() + " bench --runs 1 --warmup 0 --threads 1 --model " + dm05();
  const test::CommandResult reference = test::run_command(base + " --kernels reference");
  ASSERT_EQ(reference.exit_code, 0) << reference.output;
  EXPECT_NE(reference.output.find("peak: none for these kernels"), std::string::npos)
      << reference.output;
  EXPECT_EQ(reference.output.find("% of peak)"), std::string::npos) << reference.output;
  EXPECT_NE(reference.output.find(", 1 thread, "), std::string::npos) << reference.output;

  const test::CommandResult given =
      test::run_command(base + " --kernels reference --peak-gmacs 50");
  ASSERT_EQ(given.exit_code, 0) << given.output;
  EXPECT_NE(given.output.find("peak: 50 GMAC/s (50 per core, --peak-gmacs)"), std::string::npos)
      << given.output;
  EXPECT_NE(given.output.find("% of peak)"), std::string::npos) << given.output;

  if (kernel_isa_available(KernelIsa::kAvx512Vnni)) {
    const test::CommandResult vnni = test::run_command(base + " --kernels avx512-vnni");
    ASSERT_EQ(vnni.exit_code, 0) << vnni.output;
    EXPECT_NE(vnni.output.find("peak, measured on this CPU for 1 core: avx512-vnni "),
              std::string::npos)
        << vnni.output;
  }
}

TEST(BenchCli, BadInputsAreOneErrorLine) {
  const auto dir = test::temp_dir("cli_bench_errors");
  std::ofstream(dir / "short.raw") << "abc";
  for (const auto& [args, fragment] : std::vector<std::pair<std::string, std::string>>{
           {"bench --runs 0 --model " + dm05(), "--runs"},
           {"bench --model " + (dir / "missing.tflite").string(), "missing.tflite"},
           {"bench --model " + dm05() + " --input " + (dir / "short.raw").string(),
            "exactly 789507 bytes"},
           {"bench --model " + dm05() + " --against pytorch", "--against"},
           {"bench --model " + dm05() + " --runs 1 --against tflite --oracle " +
                (dir / "nowhere").string(),
            "no TFLite oracle"},
           {"bench --model " + dm05() + " --runs 1 --json " + (dir / "no" / "b.json").string(),
            "does not exist"}}) {
    test::expect_one_error_line(args, fragment);
  }
  // The missing oracle and the unwritable JSON are found before any timing.
  for (const std::string& args : {" --against tflite --oracle " + (dir / "nowhere").string(),
                                  " --json " + (dir / "no" / "b.json").string()}) {
    const test::CommandResult r =
        test::run_command(qseg() + " bench --runs 1 --model " + dm05() + args + " 2>&1");
    EXPECT_NE(r.exit_code, 0);
    EXPECT_EQ(r.output.find("median"), std::string::npos) << r.output;
  }
}

}  // namespace
}  // namespace qseg

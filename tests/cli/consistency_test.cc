// What every command shares: --version, `qseg help [CMD]`, the model named with --model on every
// command (inspect's positional form kept), one exit-status convention (0 done, 1 the work failed,
// 2 the command line is wrong) and help text without the argument parser's leftovers.
#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "qseg/kernel_isa.h"
#include "test_util.h"

namespace qseg {
namespace {

std::string qseg(const std::string& args) { return test::qseg_binary().string() + " " + args; }
std::string quoted(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

TEST(CliConsistency, VersionNamesTheBuildAndTheKernels) {
  const auto result = test::run_command(qseg("--version"));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_TRUE(std::regex_search(result.output, std::regex(R"(^qseg \d+\.\d+\.\d+\n)")))
      << result.output;
  EXPECT_NE(result.output.find("build: commit "), std::string::npos) << result.output;
  // The kernels this CPU gets, as the library itself resolves them.
  const std::string picks =
      "--kernels auto picks " + std::string(kernel_isa_name(best_kernel_isa()));
  EXPECT_NE(result.output.find(picks), std::string::npos) << result.output;
  for (KernelIsa isa : available_optimized_kernel_isas())
    EXPECT_NE(result.output.find(std::string(kernel_isa_name(isa))), std::string::npos);
}

TEST(CliConsistency, HelpCommandPrintsWhatHelpFlagPrints) {
  for (const std::string command : {"segment", "inspect", "eval", "bench"}) {
    const auto via_help = test::run_command(qseg("help " + command));
    const auto via_flag = test::run_command(qseg(command + " --help"));
    ASSERT_EQ(via_help.exit_code, 0) << via_help.output;
    EXPECT_EQ(via_help.output, via_flag.output) << command;
    EXPECT_NE(via_help.output.find("Usage: qseg " + command), std::string::npos);
  }
  const auto top = test::run_command(qseg("help"));
  EXPECT_EQ(top.exit_code, 0);
  EXPECT_NE(top.output.find("Subcommands:"), std::string::npos) << top.output;
  const auto unknown = test::run_command(qseg("help segmnet"));
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.output.find("qseg: error: unknown command 'segmnet'"), std::string::npos)
      << unknown.output;
}

TEST(CliConsistency, HelpHasNoParserLeftoversAndOneFormOfDefaults) {
  const auto result = test::run_command(qseg("--help-all"));
  ASSERT_EQ(result.exit_code, 0);
  const std::string& help = result.output;
  EXPECT_EQ(help.find(" in ["), std::string::npos) << "validator ranges in the help";
  EXPECT_EQ(help.find("{false}"), std::string::npos);
  EXPECT_EQ(help.find("{true}"), std::string::npos);
  // Defaults appear as "(default X)", never as "INT=1" after the option.
  EXPECT_FALSE(std::regex_search(help, std::regex(R"(--[a-z-]+ [A-Z]+=)"))) << help;
  EXPECT_NE(help.find("--threads INT "), std::string::npos);
  EXPECT_NE(help.find("Threads (default 1)"), std::string::npos) << help;
  EXPECT_NE(help.find("Most ops a model may have (default 10000)"), std::string::npos);
  // Choices stay: they are the only place a user sees them.
  EXPECT_NE(help.find("--kernels {auto,reference,"), std::string::npos) << help;
}

TEST(CliConsistency, InspectTakesTheModelAsEveryCommandDoes) {
  const auto model = test::shared_path("models/deeplabv3_mnv2_dm05_pascal_quant.tflite");
  const auto with_flag = test::run_command(qseg("inspect --model " + quoted(model)));
  const auto positional = test::run_command(qseg("inspect " + quoted(model)));
  ASSERT_EQ(with_flag.exit_code, 0) << with_flag.output;
  EXPECT_EQ(with_flag.output, positional.output);
  EXPECT_NE(with_flag.output.find("ops"), std::string::npos);
  const auto none = test::run_command(qseg("inspect"));
  EXPECT_EQ(none.exit_code, 2) << none.output;
  EXPECT_NE(none.output.find("qseg: error: inspect needs a model: --model FILE"), std::string::npos)
      << none.output;
  const auto both =
      test::run_command(qseg("inspect --model " + quoted(model) + " " + quoted(model)));
  EXPECT_EQ(both.exit_code, 2) << both.output;
}

// 2: the command line is wrong (unknown flag, a value out of range), found before any work;
// 1: the work failed (a missing or corrupt file).
TEST(CliConsistency, ExitStatusTwoForUsageOneForFailures) {
  const std::string bird = quoted(test::shared_path("images/bird.bmp"));
  struct Case {
    std::string args;
    int status;
    std::string text;
  };
  const auto dir = test::temp_dir("cli_exit_status");
  for (const Case& c : {
           Case{"segment --no-such-flag " + bird, 2, "no-such-flag"},
           Case{"segment --threads 0 " + bird, 2, "--threads must be between 1 and 256"},
           Case{"segment --max-model-mb 0 " + bird, 2, "--max-model-mb"},
           Case{"bench --model x.tflite --runs 0", 2, "--runs must be in [1, 100000]"},
           Case{"eval --model x.tflite --data . --split val.txt --limit -1", 2, "--limit must be"},
           Case{"run --model x.tflite --input x --output y --repeat 0", 2, "--repeat must be"},
           Case{"segment --model " + quoted(dir / "missing.tflite") + " " + bird, 1,
                "missing.tflite"},
           Case{"segment --out " + quoted(dir / "o") + " " + quoted(dir / "missing.jpg"), 1,
                "missing.jpg"},
       }) {
    const auto result = test::run_command(qseg(c.args));
    EXPECT_EQ(result.exit_code, c.status) << c.args << "\n" << result.output;
    EXPECT_NE(result.output.find("qseg: error: "), std::string::npos) << result.output;
    EXPECT_NE(result.output.find(c.text), std::string::npos) << c.args << "\n" << result.output;
  }
}

}  // namespace
}  // namespace qseg

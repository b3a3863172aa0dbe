// Replays every input a fuzz target once crashed on (tests/fuzz_regressions/TARGET/*) through
// the same body the fuzzer runs (fuzz/fuzz_bodies.h): returning at all is the pass condition,
// errors are expected. A crash, a sanitizer report or an abort fails the whole executable.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz_bodies.h"

namespace qseg {
namespace {

using Body = void (*)(std::span<const uint8_t>);

struct Target {
  const char* name;
  Body body;
};

const Target kTargets[] = {
    {"tflite", fuzz::fuzz_tflite},   {"image", fuzz::fuzz_image},
    {"dataset", fuzz::fuzz_dataset}, {"checkpoint", fuzz::fuzz_checkpoint},
    {"cli", fuzz::fuzz_cli},
};

std::vector<std::filesystem::path> inputs_of(const std::string& target) {
  const std::filesystem::path dir = std::filesystem::path(QSEG_FUZZ_REGRESSIONS_DIR) / target;
  std::vector<std::filesystem::path> files;
  // Git keeps no empty folders: a target that never crashed may have none.
  if (!std::filesystem::is_directory(dir)) return files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.is_regular_file() && entry.path().filename() != "README.md")
      files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());  // a stable order for the log
  return files;
}

class FuzzRegressionTest : public testing::TestWithParam<Target> {};

TEST_P(FuzzRegressionTest, EveryCrashInputReturns) {
  const Target& target = GetParam();
  const std::vector<std::filesystem::path> files = inputs_of(target.name);
  for (const std::filesystem::path& file : files) {
    SCOPED_TRACE(file.string());
    std::ifstream in(file, std::ios::binary);
    ASSERT_TRUE(in) << "cannot open " << file;
    const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                     std::istreambuf_iterator<char>());
    target.body(bytes);
  }
  // The empty input is the first thing a fuzzer tries; keep it covered even in an empty folder.
  target.body({});
  RecordProperty("inputs", static_cast<int>(files.size()));
}

INSTANTIATE_TEST_SUITE_P(Targets, FuzzRegressionTest, testing::ValuesIn(kTargets),
                         [](const testing::TestParamInfo<Target>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace qseg

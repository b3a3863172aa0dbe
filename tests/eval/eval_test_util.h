// Helpers for the `qseg eval` / `qseg compare` tests: command lines, shared models and data.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "test_util.h"

namespace qseg::test {

inline std::string quoted(const std::filesystem::path& p) { return "'" + p.string() + "'"; }
inline std::string qseg_command(const std::string& args) {
  return qseg_binary().string() + " " + args;
}

inline std::filesystem::path dm05_model() {
  return shared_path("models/deeplabv3_mnv2_dm05_pascal_quant.tflite");
}
inline std::filesystem::path float257_model() {
  return shared_path("models/deeplabv3_257_mv_gpu.tflite");
}
inline std::filesystem::path voc_root() { return shared_path("voc2012"); }

inline nlohmann::json read_json(const std::filesystem::path& path) {
  const auto bytes = read_file(path);
  return nlohmann::json::parse(bytes.begin(), bytes.end());
}

// Runs qseg with `args`, expecting success; returns the output.
inline std::string run_ok(const std::string& args) {
  const auto result = run_command(qseg_command(args));
  EXPECT_EQ(result.exit_code, 0) << args << "\n" << result.output;
  return result.output;
}

// Bad input must end in one line "qseg: error: ..." containing `expected_text`, a non-zero exit
// status, and never a crash or a sanitizer report.
inline void expect_clean_failure(const std::string& args, const std::string& expected_text) {
  const auto result = run_command(qseg_command(args));
  EXPECT_NE(result.exit_code, 0) << args;
  EXPECT_LT(result.exit_code, 128) << "killed by a signal: " << args << "\n" << result.output;
  std::string last_line = result.output;
  while (!last_line.empty() && last_line.back() == '\n') last_line.pop_back();
  last_line = last_line.substr(last_line.find_last_of('\n') + 1);
  EXPECT_EQ(last_line.rfind("qseg: error: ", 0), 0u) << args << "\n" << result.output;
  EXPECT_NE(last_line.find(expected_text), std::string::npos) << args << "\n" << result.output;
  EXPECT_EQ(result.output.find("Sanitizer"), std::string::npos) << result.output;
}

// Renders `html` in headless Chromium (no network, fresh profile) into a screenshot and checks
// that it is not blank and that the file refers to nothing outside itself.
// `must_show`: colours that must cover at least 500 pixels of the screenshot (e.g. error maps),
// rendered in a window `window_height` pixels tall.
void expect_report_renders(const std::filesystem::path& html, const std::string& name,
                           int window_height = 2000,
                           const std::vector<std::array<uint8_t, 3>>& must_show = {});

}  // namespace qseg::test

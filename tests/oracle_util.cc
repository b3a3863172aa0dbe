// Implementation of the real-TFLite test helper: writes the input to a temporary folder, runs
// `node tflite_run.js` on it and reads the output back.
#include "oracle_util.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>
#include <utility>

#include "test_util.h"

namespace qseg::test {
namespace {

std::string shell_quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

// The last line of the oracle's output that says what went wrong.
std::string last_error_line(const std::string& output) {
  std::string last;
  size_t start = 0;
  while (start < output.size()) {
    size_t end = output.find('\n', start);
    if (end == std::string::npos) end = output.size();
    const std::string line = output.substr(start, end - start);
    if (line.find("ERROR") != std::string::npos || last.empty()) last = line;
    start = end + 1;
  }
  return last.empty() ? "no output" : last;
}

}  // namespace

std::filesystem::path tflite_oracle_dir() {
  if (const char* env = std::getenv("QSEG_TFLITE_ORACLE"); env && *env) return env;
  return std::filesystem::path(QSEG_BINARY_DIR) / "tflite-oracle";
}

Result<std::vector<std::vector<uint8_t>>> run_real_tflite_outputs(
    const std::filesystem::path& model, std::span<const uint8_t> input_bytes, int outputs,
    const std::filesystem::path& oracle_dir) {
  const auto script = oracle_dir / "tflite_run.js";
  if (!std::filesystem::exists(script) ||
      !std::filesystem::exists(oracle_dir / "node_modules/@tensorflow/tfjs-tflite")) {
    return Status::error("the real-TFLite oracle is not installed in " + oracle_dir.string() +
                         " (ctest installs it with its test tflite_oracle_setup; or run " +
                         (shared_dir() / "tools/tflite-oracle/setup.sh").string() + " " +
                         oracle_dir.string() + ")");
  }
  if (run_command("command -v node").exit_code != 0)
    return Status::error("node is not installed (scripts/setup.sh installs Node.js and npm)");

  static std::atomic<int> counter{0};
  const auto dir =
      temp_dir("oracle-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1)));
  const auto input_path = dir / "input.raw";
  const auto output_path = dir / "output.bin";
  write_file(input_path, std::vector<uint8_t>(input_bytes.begin(), input_bytes.end()));
  const std::string command = "node " + shell_quote(script.string()) + " " +
                              shell_quote(model.string()) + " " + shell_quote(input_path.string()) +
                              " " + shell_quote(output_path.string()) + " --runs 0 --as-int64";
  const CommandResult run = run_command(command);
  if (run.exit_code != 0 || !std::filesystem::exists(output_path)) {
    std::filesystem::remove_all(dir);
    return Status::error("real TFLite failed on " + model.string() + " (exit " +
                         std::to_string(run.exit_code) + "): " + last_error_line(run.output));
  }
  std::vector<std::vector<uint8_t>> results;
  for (int k = 0; k < outputs; ++k) {
    const auto path = k == 0 ? output_path : dir / ("output.bin." + std::to_string(k));
    if (!std::filesystem::exists(path)) {
      std::filesystem::remove_all(dir);
      return Status::error("real TFLite wrote no output " + std::to_string(k) + " for " +
                           model.string());
    }
    results.push_back(read_file(path));
  }
  std::filesystem::remove_all(dir);
  return results;
}

Result<std::vector<uint8_t>> run_real_tflite(const std::filesystem::path& model,
                                             std::span<const uint8_t> input_bytes,
                                             const std::filesystem::path& oracle_dir) {
  QSEG_ASSIGN_OR_RETURN(auto outputs, run_real_tflite_outputs(model, input_bytes, 1, oracle_dir));
  return std::move(outputs.front());
}

}  // namespace qseg::test

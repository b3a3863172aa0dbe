// Helpers shared by the tests: where the shared data and the built qseg binary are, file I/O.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace qseg::test {

// The shared data folder: $QSEG_SHARED if set, else the CMake cache value QSEG_SHARED_DIR.
std::filesystem::path shared_dir();
std::filesystem::path shared_path(const std::string& relative);

// The qseg command built with the tests ($QSEG_BIN, set by ctest).
std::filesystem::path qseg_binary();

// A fresh empty directory for one test, under the build tree.
std::filesystem::path temp_dir(const std::string& name);

std::vector<uint8_t> read_file(const std::filesystem::path& path);
// Reads a .gz file (via `gzip -dc`) or a plain file.
std::vector<uint8_t> read_maybe_gzipped(const std::filesystem::path& path);
void write_file(const std::filesystem::path& path, const std::vector<uint8_t>& bytes);

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};
// Runs a shell command line and captures its output.
CommandResult run_command(const std::string& command_line);

}  // namespace qseg::test

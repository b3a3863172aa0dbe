// Implementation of the shared test helpers.
#include "test_util.h"

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace qseg::test {

std::filesystem::path shared_dir() {
  if (const char* env = std::getenv("QSEG_SHARED"); env && *env) return env;
  return QSEG_DEFAULT_SHARED_DIR;
}

std::filesystem::path shared_path(const std::string& relative) { return shared_dir() / relative; }

std::filesystem::path qseg_binary() {
  if (const char* env = std::getenv("QSEG_BIN"); env && *env) return env;
  return std::filesystem::path(QSEG_BINARY_DIR) / "qseg";
}

std::filesystem::path temp_dir(const std::string& name) {
  auto dir = std::filesystem::path(QSEG_BINARY_DIR) / "test_tmp" / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

std::vector<uint8_t> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<uint8_t> read_maybe_gzipped(const std::filesystem::path& path) {
  if (path.extension() != ".gz") return read_file(path);
  const std::string command = "gzip -dc '" + path.string() + "'";
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot run " + command);
  std::vector<uint8_t> bytes;
  std::array<uint8_t, 65536> chunk{};
  size_t n = 0;
  while ((n = fread(chunk.data(), 1, chunk.size(), pipe)) > 0)
    bytes.insert(bytes.end(), chunk.begin(), chunk.begin() + n);
  if (pclose(pipe) != 0) throw std::runtime_error("gzip failed on " + path.string());
  return bytes;
}

void write_file(const std::filesystem::path& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

CommandResult run_command(const std::string& command_line) {
  CommandResult result;
  FILE* pipe = popen((command_line + " 2>&1").c_str(), "r");
  if (!pipe) return result;
  std::array<char, 4096> chunk{};
  size_t n = 0;
  while ((n = fread(chunk.data(), 1, chunk.size(), pipe)) > 0)
    result.output.append(chunk.data(), n);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

}  // namespace qseg::test

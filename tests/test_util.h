// Helpers shared by the tests: where the shared data and the built qseg binary are, file I/O.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "qseg/graph.h"

namespace qseg::test {

// The shared data folder: $QSEG_SHARED if set, else the CMake cache value QSEG_SHARED_DIR.
std::filesystem::path shared_dir();
std::filesystem::path shared_path(const std::string& relative);

// The qseg command built with the tests ($QSEG_BIN, set by ctest).
std::filesystem::path qseg_binary();

// A TCP port on 127.0.0.1 that nobody listens on now (the kernel's pick for port 0).
int free_tcp_port();

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

// Runs `qseg ARGS` and expects a non-zero exit with exactly one "qseg: error: ..." line (the last
// line of the output) that contains `fragment` (gtest expectations).
void expect_one_error_line(const std::string& args, const std::string& fragment);

// Runs a graph (or a .tflite file) once in qseg's runtime on the exact bytes of input 0 and
// returns the bytes of output 0; empty, with a gtest failure, when it does not load or the input
// size differs.
std::vector<uint8_t> run_graph(Graph graph, const std::vector<uint8_t>& input);
std::vector<uint8_t> run_model_file(const std::filesystem::path& model,
                                    const std::vector<uint8_t>& input);

// A uint8 model [1, height, width, 3] (scale 1/128, zero point 128) -> ARG_MAX over the channels
// -> int64 [1, height, width]: each label says which of R, G, B is largest where the model saw
// the pixel (0 on ties, e.g. on the gray padding). For tests of where photos land in an input.
Graph channel_argmax_model(int height, int width);

// The fraction of equal int64 values (ArgMax labels) in two outputs; 0 when their sizes differ.
double int64_label_agreement(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b);

}  // namespace qseg::test

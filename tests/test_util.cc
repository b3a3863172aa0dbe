// Implementation of the shared test helpers.
#include "test_util.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include "qseg/interpreter.h"
#include "qseg/tflite.h"

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

int free_tcp_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("free_tcp_port: no socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  ::close(fd);
  if (!ok) throw std::runtime_error("free_tcp_port: cannot bind");
  return ntohs(address.sin_port);
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

void expect_one_error_line(const std::string& args, const std::string& fragment) {
  const CommandResult r = run_command(qseg_binary().string() + " " + args);
  EXPECT_NE(r.exit_code, 0) << args;
  const size_t at = r.output.find("qseg: error: ");
  ASSERT_NE(at, std::string::npos) << args << "\n" << r.output;
  EXPECT_EQ(std::count(r.output.begin() + static_cast<std::ptrdiff_t>(at), r.output.end(), '\n'), 1)
      << r.output;
  EXPECT_NE(r.output.find(fragment), std::string::npos) << args << "\n" << r.output;
}

std::vector<uint8_t> run_graph(Graph graph, const std::vector<uint8_t>& input) {
  auto interpreter = Interpreter::create(std::move(graph));
  EXPECT_TRUE(interpreter.is_ok()) << interpreter.status().message();
  if (!interpreter.is_ok()) return {};
  Interpreter& it = *interpreter.value();
  EXPECT_EQ(it.input_bytes().size(), input.size());
  if (it.input_bytes().size() != input.size()) return {};
  std::copy(input.begin(), input.end(), it.input_bytes().begin());
  it.invoke();
  return {it.output_bytes().begin(), it.output_bytes().end()};
}

std::vector<uint8_t> run_model_file(const std::filesystem::path& model,
                                    const std::vector<uint8_t>& input) {
  auto graph = read_tflite_file(model);
  EXPECT_TRUE(graph.is_ok()) << graph.status().message();
  if (!graph.is_ok()) return {};
  return run_graph(std::move(graph).value(), input);
}

double int64_label_agreement(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  if (a.size() != b.size() || a.size() < 8) return 0.0;
  size_t same = 0;
  for (size_t i = 0; i + 8 <= a.size(); i += 8) same += std::equal(&a[i], &a[i] + 8, &b[i]);
  return static_cast<double>(same) / static_cast<double>(a.size() / 8);
}

Graph channel_argmax_model(int height, int width) {
  Graph g;
  Tensor input;
  input.name = "input";
  input.type = DataType::kUInt8;
  input.shape = {1, height, width, 3};
  input.quant.scale = {1.0f / 128};
  input.quant.zero_point = {128};
  Tensor axis;
  axis.name = "axis";
  axis.type = DataType::kInt32;
  axis.is_constant = true;
  axis.data = {3, 0, 0, 0};
  Tensor labels;
  labels.name = "labels";
  labels.type = DataType::kInt64;
  labels.shape = {1, height, width};
  g.tensors = {input, axis, labels};
  Op argmax;
  argmax.type = OpType::kArgMax;
  argmax.inputs = {0, 1};
  argmax.outputs = {2};
  argmax.options = ArgMaxOptions{DataType::kInt64};
  g.ops = {argmax};
  g.inputs = {0};
  g.outputs = {2};
  return g;
}

}  // namespace qseg::test

// The real-TFLite peer process (oracle.h): spawns `node tflite_batch.js`, speaks its protocol.
#include "oracle.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "qseg/tflite.h"

extern char** environ;

namespace qseg::cli {
namespace {

std::filesystem::path self_dir() {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path(".") : self.parent_path();
}

// tflite_batch.js: beside the binary (the build copies it there), else in the source tree.
std::filesystem::path batch_script() {
  const auto beside = self_dir() / "tflite_batch.js";
  if (std::filesystem::exists(beside)) return beside;
  return std::filesystem::path(QSEG_SOURCE_DIR) / "tools/oracle/tflite_batch.js";
}

bool write_all(int fd, const void* data, size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
  while (n > 0) {
    const ssize_t k = ::write(fd, p, n);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return false;
    p += k;
    n -= static_cast<size_t>(k);
  }
  return true;
}

bool read_all(int fd, void* data, size_t n) {
  auto* p = static_cast<uint8_t*>(data);
  while (n > 0) {
    const ssize_t k = ::read(fd, p, n);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return false;
    p += k;
    n -= static_cast<size_t>(k);
  }
  return true;
}

std::string last_line(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  return last.empty() ? "no message" : last;
}

}  // namespace

std::filesystem::path default_oracle_dir() { return self_dir() / "tflite-oracle"; }

Status check_oracle_installed(const std::filesystem::path& oracle_dir) {
  if (std::filesystem::exists(oracle_dir / "node_modules/@tensorflow/tfjs-tflite"))
    return Status::ok();
  return Status::error("no TFLite oracle in " + oracle_dir.string() +
                       " (install it: ../shared/tools/tflite-oracle/setup.sh " +
                       oracle_dir.string() + ", or name another with --oracle DIR)");
}

Result<std::unique_ptr<TfliteOracle>> TfliteOracle::start(const Graph& graph,
                                                          const std::filesystem::path& oracle_dir) {
  QSEG_RETURN_IF_ERROR(check_oracle_installed(oracle_dir));
  const std::filesystem::path script = batch_script();
  if (!std::filesystem::exists(script))
    return Status::error("the oracle runner " + script.string() + " is missing");
  if (graph.inputs.size() != 1)
    return Status::error("the real-TFLite runner feeds models with one input");

  std::unique_ptr<TfliteOracle> oracle(new TfliteOracle());
  static std::atomic<int> counter{0};
  oracle->dir_ =
      std::filesystem::temp_directory_path() /
      ("qseg-oracle-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1)));
  std::error_code ec;
  std::filesystem::create_directories(oracle->dir_, ec);
  if (ec) return Status::error("cannot create " + oracle->dir_.string() + ": " + ec.message());

  // The model as TFLite will read it: int64 ArgMax outputs made int32.
  Graph copy = graph;
  for (int32_t out : copy.outputs) {
    oracle->widen_.push_back(false);
    Tensor& t = copy.tensors[out];
    if (t.type != DataType::kInt64) continue;
    for (Op& op : copy.ops) {
      if (op.type == OpType::kArgMax && op.outputs.size() == 1 && op.outputs[0] == out) {
        std::get<ArgMaxOptions>(op.options).output_type = DataType::kInt32;
        t.type = DataType::kInt32;
        oracle->widen_.back() = true;
      }
    }
    if (!oracle->widen_.back())
      return Status::error("output '" + t.name +
                           "' is int64, which the real-TFLite runner cannot read");
  }
  const auto model_path = oracle->dir_ / "model.tflite";
  QSEG_RETURN_IF_ERROR(write_tflite_file(copy, model_path));

  int in_pipe[2], out_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) != 0 || ::pipe2(out_pipe, O_CLOEXEC) != 0)
    return Status::error(std::string("cannot create pipes: ") + std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  const std::string log = (oracle->dir_ / "stderr.txt").string();
  posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const std::string dir = oracle_dir.string(), js = script.string(), model = model_path.string();
  std::vector<char*> argv = {const_cast<char*>("node"), const_cast<char*>(js.c_str()),
                             const_cast<char*>(dir.c_str()), const_cast<char*>(model.c_str()),
                             nullptr};
  const int spawned =
      ::posix_spawnp(&oracle->pid_, "node", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  oracle->to_child_ = in_pipe[1];
  oracle->from_child_ = out_pipe[0];
  if (spawned != 0) {
    oracle->pid_ = -1;
    return Status::error(std::string("cannot start node (scripts/setup.sh installs Node.js): ") +
                         std::strerror(spawned));
  }
  // A peer that dies must give an error, not kill qseg on its next write.
  ::signal(SIGPIPE, SIG_IGN);

  std::string header;
  char c = 0;
  while (read_all(oracle->from_child_, &c, 1) && c != '\n') header += c;
  if (c != '\n') return oracle->failure("the real TFLite did not start");
  const auto doc = nlohmann::json::parse(header, nullptr, false);
  if (doc.is_discarded() || !doc.contains("outputs"))
    return oracle->failure("the real-TFLite runner printed no model description");
  for (const auto& out : doc["outputs"])
    oracle->output_bytes_.push_back(out["bytes"].get<size_t>());
  if (oracle->output_bytes_.size() != copy.outputs.size())
    return oracle->failure("the real TFLite reports " +
                           std::to_string(oracle->output_bytes_.size()) +
                           " outputs, the model has " + std::to_string(copy.outputs.size()));
  for (size_t i = 0; i < copy.outputs.size(); ++i) {
    const auto expected = static_cast<size_t>(copy.tensors[copy.outputs[i]].byte_size());
    if (oracle->output_bytes_[i] != expected)
      return oracle->failure("the real TFLite's output " + std::to_string(i) + " holds " +
                             std::to_string(oracle->output_bytes_[i]) + " bytes, qseg expects " +
                             std::to_string(expected));
  }
  return oracle;
}

Status TfliteOracle::failure(const std::string& what) {
  if (to_child_ >= 0) ::close(to_child_);
  to_child_ = -1;
  int status = 0;
  if (pid_ > 0) ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return Status::error(what + ": " + last_line(dir_ / "stderr.txt"));
}

Result<std::vector<std::vector<uint8_t>>> TfliteOracle::run(std::span<const uint8_t> input) {
  if (pid_ < 0) return Status::error("the real TFLite has stopped");
  if (input.empty() || input.size() > 0xFFFFFFFFu)
    return Status::error("an input of " + std::to_string(input.size()) + " bytes");
  const auto n = static_cast<uint32_t>(input.size());
  if (!write_all(to_child_, &n, 4) || !write_all(to_child_, input.data(), input.size()))
    return failure("the real TFLite stopped reading");
  std::vector<std::vector<uint8_t>> outputs;
  for (size_t i = 0; i < output_bytes_.size(); ++i) {
    uint32_t size = 0;
    if (!read_all(from_child_, &size, 4) || size != output_bytes_[i])
      return failure("the real TFLite did not answer");
    std::vector<uint8_t> bytes(size);
    if (!read_all(from_child_, bytes.data(), size))
      return failure("the real TFLite did not answer");
    if (widen_[i]) {
      std::vector<uint8_t> wide(bytes.size() * 2);
      for (size_t k = 0; k < bytes.size() / 4; ++k) {
        int32_t v;
        std::memcpy(&v, bytes.data() + 4 * k, 4);
        const auto w = static_cast<int64_t>(v);
        std::memcpy(wide.data() + 8 * k, &w, 8);
      }
      bytes = std::move(wide);
    }
    outputs.push_back(std::move(bytes));
  }
  return outputs;
}

TfliteOracle::~TfliteOracle() {
  if (to_child_ >= 0) {
    const uint32_t zero = 0;
    write_all(to_child_, &zero, 4);
    ::close(to_child_);
  }
  if (from_child_ >= 0) ::close(from_child_);
  if (pid_ > 0) {
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

}  // namespace qseg::cli

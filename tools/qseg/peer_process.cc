// PeerProcess (peer_process.h): spawns `node SCRIPT ...` on pipes and speaks the batch protocol.
#include "peer_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

extern char** environ;

namespace qseg::cli {
namespace {

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

std::filesystem::path self_dir() {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path(".") : self.parent_path();
}

Result<std::unique_ptr<PeerProcess>> PeerProcess::start(const std::string& label,
                                                        const std::filesystem::path& script,
                                                        const std::vector<std::string>& args,
                                                        const std::filesystem::path& log_file,
                                                        const std::vector<size_t>& output_bytes) {
  if (!std::filesystem::exists(script))
    return Status::error("the runner " + script.string() + " is missing");
  std::unique_ptr<PeerProcess> peer(new PeerProcess());
  peer->label_ = label;
  peer->log_file_ = log_file;
  peer->output_bytes_ = output_bytes;

  int in_pipe[2], out_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) != 0 || ::pipe2(out_pipe, O_CLOEXEC) != 0)
    return Status::error(std::string("cannot create pipes: ") + std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  const std::string log = log_file.string();
  posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<std::string> words = {"node", script.string()};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  argv.reserve(words.size() + 1);
  for (std::string& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  const int spawned = ::posix_spawnp(&peer->pid_, "node", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  peer->to_child_ = in_pipe[1];
  peer->from_child_ = out_pipe[0];
  if (spawned != 0) {
    peer->pid_ = -1;
    return Status::error(std::string("cannot start node (scripts/setup.sh installs Node.js): ") +
                         std::strerror(spawned));
  }
  // A peer that dies must give an error, not kill qseg on its next write.
  ::signal(SIGPIPE, SIG_IGN);

  std::string header;
  char c = 0;
  while (read_all(peer->from_child_, &c, 1) && c != '\n') header += c;
  if (c != '\n') return peer->failure(label + " did not start");
  const auto doc = nlohmann::json::parse(header, nullptr, false);
  if (doc.is_discarded() || !doc.contains("outputs") || !doc["outputs"].is_array())
    return peer->failure(label + "'s runner printed no model description");
  const nlohmann::json& outputs = doc["outputs"];
  if (outputs.size() != output_bytes.size())
    return peer->failure(label + " reports " + std::to_string(outputs.size()) +
                         " outputs, the model has " + std::to_string(output_bytes.size()));
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (!outputs[i].contains("bytes")) continue;
    const auto bytes = outputs[i]["bytes"].get<size_t>();
    if (bytes != output_bytes[i])
      return peer->failure(label + "'s output " + std::to_string(i) + " holds " +
                           std::to_string(bytes) + " bytes, qseg expects " +
                           std::to_string(output_bytes[i]));
  }
  return peer;
}

Status PeerProcess::failure(const std::string& what) {
  if (to_child_ >= 0) ::close(to_child_);
  to_child_ = -1;
  int status = 0;
  if (pid_ > 0) ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return Status::error(what + ": " + last_line(log_file_));
}

Result<std::vector<std::vector<uint8_t>>> PeerProcess::run(std::span<const uint8_t> input) {
  if (pid_ < 0) return Status::error(label_ + " has stopped");
  if (input.empty() || input.size() > 0xFFFFFFFFu)
    return Status::error("an input of " + std::to_string(input.size()) + " bytes");
  const auto n = static_cast<uint32_t>(input.size());
  if (!write_all(to_child_, &n, 4) || !write_all(to_child_, input.data(), input.size()))
    return failure(label_ + " stopped reading");
  std::vector<std::vector<uint8_t>> outputs;
  for (size_t expected : output_bytes_) {
    uint32_t size = 0;
    if (!read_all(from_child_, &size, 4) || size != expected)
      return failure(label_ + " did not answer");
    std::vector<uint8_t> bytes(size);
    if (!read_all(from_child_, bytes.data(), size)) return failure(label_ + " did not answer");
    outputs.push_back(std::move(bytes));
  }
  return outputs;
}

PeerProcess::~PeerProcess() {
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
}

}  // namespace qseg::cli

// Child processes and run outputs for the training tests (child_runs.h).
#include "train/support/child_runs.h"

#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>

#include <fstream>
#include <iterator>

#include "train/model_names.h"

extern char** environ;

namespace qseg::test {

pid_t spawn_shell(const std::string& command) {
  pid_t pid = -1;
  const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
  EXPECT_EQ(::posix_spawn(&pid, "/bin/sh", nullptr, nullptr, const_cast<char**>(argv), environ), 0);
  return pid;
}

int poll_child(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, WNOHANG) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::map<std::string, std::vector<float>> checkpoint_tensors(const std::filesystem::path& path) {
  std::map<std::string, std::vector<float>> out;
  auto file = model::read_checkpoint_file(path);
  EXPECT_TRUE(file.is_ok()) << file.status().message();
  if (file.is_ok())
    for (const model::CheckpointTensor& t : file.value().tensors) out[t.name] = t.data;
  return out;
}

}  // namespace qseg::test

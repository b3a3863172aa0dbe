// Forwarding the libtorch commands from qseg to qseg-train (see training_tool.h).
#include "training_tool.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

namespace qseg::cli {
namespace {

int command_argc = 0;
char** command_argv = nullptr;
bool training_tool_flag = false;

}  // namespace

bool is_training_command(std::string_view name) {
  return name == "import" || name == "train" || name == "launch";
}

void set_command_line(int argc, char** argv, bool training_tool) {
  command_argc = argc;
  command_argv = argv;
  training_tool_flag = training_tool;
}

bool is_training_tool() { return training_tool_flag; }

Status run_training_tool() {
  if (training_tool_flag || command_argv == nullptr) {
    return Status::error("internal: no command line to hand to qseg-train");
  }
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return Status::error("cannot find this executable (/proc/self/exe): " + ec.message());
  const std::filesystem::path tool = self.parent_path() / "qseg-train";
  if (::access(tool.c_str(), X_OK) != 0) {
    return Status::error(std::string(command_argc > 1 ? command_argv[1] : "this command") +
                         " runs in libtorch, in qseg-train, which is not beside " + self.string() +
                         " (scripts/build.sh builds both)");
  }
  std::vector<char*> argv(command_argv, command_argv + command_argc);
  std::string tool_name = tool.string();
  argv[0] = tool_name.data();
  argv.push_back(nullptr);
  std::fflush(stdout);
  std::fflush(stderr);
  ::execv(tool_name.c_str(), argv.data());
  return Status::error("cannot run " + tool_name + ": " + std::strerror(errno));
}

}  // namespace qseg::cli

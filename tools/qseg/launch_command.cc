// `qseg launch --nproc N train ...`: data-parallel training on one machine. Starts N `qseg train`
// processes (ranks 0..N-1, meeting at 127.0.0.1 on a free port), forwards SIGINT/SIGTERM to them
// (they stop together at the same step, with a checkpoint), and when one fails, gives the others
// time to stop on their own (they notice within their --timeout) before killing them.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "common.h"
#include "training_tool.h"

namespace qseg::cli {
namespace {

struct LaunchArgs {
  int nproc = 2;
  int port = 0;
  double grace_seconds = -1;
  std::vector<std::string> command;  // "train" and its flags
};

std::atomic<int> g_forward_signal{0};
extern "C" void remember_signal(int signal) { g_forward_signal = signal; }

// A TCP port nobody listens on now (the kernel's choice for port 0).
Result<int> free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::error(std::string("cannot open a socket: ") + std::strerror(errno));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    const std::string error = std::strerror(errno);
    ::close(fd);
    return Status::error("cannot find a free port: " + error);
  }
  ::close(fd);
  return static_cast<int>(ntohs(address.sin_port));
}

std::string describe(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const char* name = ::strsignal(WTERMSIG(status));
    return std::string("was killed by signal ") + std::to_string(WTERMSIG(status)) + " (" +
           (name ? name : "?") + ")";
  }
  return "stopped";
}

Status run_launch(const LaunchArgs& args) {
  if (args.nproc < 1 || args.nproc > 256)
    return Status::invalid_argument("--nproc must be in [1, 256], got " + std::to_string(args.nproc));
  if (args.port < 0 || args.port > 65535)
    return Status::invalid_argument("--port must be in [1, 65535] (0: a free one)");
  if (args.command.empty() || args.command[0] != "train") {
    return Status::error("qseg launch runs `train`: qseg launch --nproc N train --data ... (got " +
                         (args.command.empty() ? std::string("nothing") : args.command[0]) + ")");
  }
  double timeout = 300;  // train's default --timeout
  for (size_t i = 1; i < args.command.size(); ++i) {
    const std::string& flag = args.command[i];
    for (const char* own : {"--world-size", "--rank", "--master"}) {
      if (flag == own || flag.rfind(std::string(own) + "=", 0) == 0)
        return Status::error(std::string("qseg launch sets ") + own + " itself: leave it out");
    }
    if (flag == "--timeout" && i + 1 < args.command.size()) {
      try {
        timeout = std::stod(args.command[i + 1]);
      } catch (const std::exception&) {
      }
    }
  }
  int port = args.port;
  if (port == 0) {
    QSEG_ASSIGN_OR_RETURN(port, free_port());
  }
  const double grace = args.grace_seconds >= 0 ? args.grace_seconds : timeout + 10;

  std::vector<std::vector<std::string>> argvs;
  for (int rank = 0; rank < args.nproc; ++rank) {
    std::vector<std::string> argv{"qseg"};
    argv.insert(argv.end(), args.command.begin(), args.command.end());
    argv.insert(argv.end(),
                {"--world-size", std::to_string(args.nproc), "--rank", std::to_string(rank),
                 "--master", "127.0.0.1:" + std::to_string(port)});
    argvs.push_back(std::move(argv));
  }
  g_forward_signal = 0;
  struct sigaction action {};
  action.sa_handler = remember_signal;
  struct sigaction old_int {
  }, old_term{};
  ::sigaction(SIGINT, &action, &old_int);
  ::sigaction(SIGTERM, &action, &old_term);

  std::fflush(stdout);
  std::fflush(stderr);
  std::vector<pid_t> pids;
  for (const auto& argv : argvs) {
    std::vector<char*> c_argv;
    for (const std::string& a : argv) c_argv.push_back(const_cast<char*>(a.c_str()));
    c_argv.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::sigaction(SIGINT, &old_int, nullptr);
      ::sigaction(SIGTERM, &old_term, nullptr);
      ::execv("/proc/self/exe", c_argv.data());
      std::fprintf(stderr, "qseg: error: launch: cannot run qseg: %s\n", std::strerror(errno));
      ::_exit(127);
    }
    if (pid < 0) {
      const std::string error = std::strerror(errno);
      for (pid_t p : pids) ::kill(p, SIGKILL);
      for (pid_t p : pids) ::waitpid(p, nullptr, 0);
      return Status::error("launch: cannot start rank " + std::to_string(pids.size()) + ": " +
                           error);
    }
    pids.push_back(pid);
  }

  // Wait for all; after the first failure, give the others `grace` seconds to stop by themselves.
  std::vector<int> statuses(pids.size(), 0);
  std::vector<bool> done(pids.size(), false);
  size_t running = pids.size();
  int first_failure = -1;
  std::chrono::steady_clock::time_point failed_at;
  bool killed = false;
  while (running > 0) {
    if (const int signal = g_forward_signal.exchange(0); signal != 0) {
      for (size_t i = 0; i < pids.size(); ++i)
        if (!done[i]) ::kill(pids[i], SIGTERM);
    }
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      for (size_t i = 0; i < pids.size(); ++i) {
        if (pids[i] != pid) continue;
        done[i] = true;
        statuses[i] = status;
        --running;
        const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        if (!ok && first_failure < 0) {
          first_failure = static_cast<int>(i);
          failed_at = std::chrono::steady_clock::now();
        }
      }
      continue;
    }
    if (pid < 0 && errno != EINTR) break;
    if (first_failure >= 0 && !killed &&
        std::chrono::duration<double>(std::chrono::steady_clock::now() - failed_at).count() >
            grace) {
      for (size_t i = 0; i < pids.size(); ++i)
        if (!done[i]) ::kill(pids[i], SIGKILL);
      killed = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGTERM, &old_term, nullptr);
  if (first_failure < 0) return Status::ok();
  std::string others;
  for (size_t i = 0; i < pids.size(); ++i) {
    if (static_cast<int>(i) == first_failure) continue;
    others += (others.empty() ? "" : ", ") + std::string("rank ") + std::to_string(i) + " " +
              describe(statuses[i]);
  }
  return Status::error(
      "launch: rank " + std::to_string(first_failure) + " " + describe(statuses[first_failure]) +
      " first" + (others.empty() ? "" : "; then " + others) +
      (killed ? " (killed after a grace of " + std::to_string(grace) + " s)" : ""));
}

}  // namespace

void add_launch_command(CLI::App& app, Action& run) {
  auto args = std::make_shared<LaunchArgs>();
  CLI::App* cmd = app.add_subcommand("launch", std::string(kLaunchDescription));
  cmd->add_option("--nproc", args->nproc, "Replicas (processes) to start")->capture_default_str();
  cmd->add_option("--port", args->port, "Port where rank 0 listens (0: a free one)")
      ->capture_default_str();
  cmd->add_option("--grace", args->grace_seconds,
                  "After a replica fails, seconds the others get to stop before they are killed "
                  "(default: train's --timeout + 10)");
  cmd->prefix_command();  // everything from `train` on is the replicas' command
  cmd->callback([args, cmd, &run] {
    args->command = cmd->remaining();
    run = [args] { return run_launch(*args); };
  });
}

}  // namespace qseg::cli

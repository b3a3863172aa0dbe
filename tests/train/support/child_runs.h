// What the training tests that drive `qseg` as child processes share (kill, hang, resume, replica
// faults): starting and polling a child, and reading what a run left behind.
//
// Header kept C++17 (the libtorch test files include it).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace qseg::test {

// `command` run by /bin/sh -c; the child's pid (a gtest failure if it cannot start).
pid_t spawn_shell(const std::string& command);

// The child's exit status (128 + N when signal N ended it), or -1 while it runs.
int poll_child(pid_t pid);

// A file's whole text ("" when it is missing).
std::string read_text(const std::filesystem::path& path);

// Every tensor of a checkpoint file by name (empty, with a gtest failure, when it does not read).
std::map<std::string, std::vector<float>> checkpoint_tensors(const std::filesystem::path& path);

}  // namespace qseg::test

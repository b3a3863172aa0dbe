// fuzz_cli: any bytes as a TOML flag file and as a command line for the qseg app. The app has
// every subcommand but bench, registered by the same functions as tools/qseg/main.cc; parsing
// only stores flags and checks them, no action runs.
#include <CLI/CLI.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "common.h"
#include "fuzz_bodies.h"

namespace qseg::fuzz {
namespace {

// Bounds one execution: CLI11's work grows with the number of arguments and config lines.
constexpr size_t kMaxArguments = 64;

struct App {
  CLI::App app{"qseg (fuzz)", "qseg"};
  cli::Action run;
  App() {
    app.require_subcommand(1);
    app.set_help_all_flag("--help-all", "Show help for all subcommands");
    cli::add_segment_command(app, run);
    cli::add_run_command(app, run);
    cli::add_inspect_command(app, run);
    cli::add_eval_command(app, run);
    cli::add_compare_command(app, run);
    cli::add_import_command(app, run);
    cli::add_train_command(app, run);
    cli::add_launch_command(app, run);
    cli::add_export_command(app, run);
    cli::add_convert_command(app, run);
    cli::add_diff_command(app, run);
  }
};

// What `qseg train --config FILE` does with a flag file (the train command alone is built: the
// others read no flag files).
void apply_train_config(const std::string& text) {
  CLI::App app;
  cli::Action run;
  cli::add_train_command(app, run);
  std::istringstream in(text);
  (void)cli::apply_config(app.get_subcommand("train"), in, "fuzz.toml");
}

// One argument per line, as a shell would pass them; main.cc's check of the command name first.
void parse_command_line(const std::string& text) {
  std::vector<std::string> args;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line) && args.size() < kMaxArguments;)
    args.push_back(line);
  App app;
  if (!args.empty() && !args[0].empty() && args[0][0] != '-') {
    try {
      app.app.get_subcommand(args[0]);
    } catch (const CLI::OptionNotFound&) {
      return;
    }
  }
  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 pops from the back
  try {
    app.app.parse(reversed);
  } catch (const CLI::Error&) {
    return;
  }
}

}  // namespace

void fuzz_cli(std::span<const uint8_t> bytes) {
  const std::string text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  apply_train_config(text);
  parse_command_line(text);
}

}  // namespace qseg::fuzz

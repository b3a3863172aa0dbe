// qseg: segment photos with 8-bit DeepLab models, run and inspect .tflite files, score models on
// VOC-layout datasets (eval, compare), export and convert; the same main makes qseg-train, which
// adds the libtorch commands (training_tool.h).
#include <cstdio>
#include <string>

#include "common.h"
#if !defined(QSEG_DEVICE_CLI)
#include "training_tool.h"
#endif

int main(int argc, char** argv) {
  // Progress reaches a pipe (| tee, a log) line by line, not at exit.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  CLI::App app{"qseg: 8-bit DeepLab segmentation, from photo to mask", "qseg"};
  qseg::cli::set_help_formatter(app);
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for all subcommands");
  app.set_version_flag(
      "--version", [] { return qseg::cli::version_text(); },
      "Print the version, the build and the kernels this CPU gets, and exit");
  qseg::cli::Action run;
  qseg::cli::add_segment_command(app, run);
  qseg::cli::add_run_command(app, run);
  qseg::cli::add_inspect_command(app, run);
#if defined(QSEG_DEVICE_CLI)
  // The device build (QSEG_RUNTIME_ONLY): the commands that need only the runtime and image files.
  const char* const commands = "segment, run, inspect, help";
#else
  const char* const commands =
      "segment, run, inspect, eval, compare, diff, import, train, launch, export, convert, bench, "
      "help";
#if defined(QSEG_TRAINING_TOOL)
  qseg::cli::set_command_line(argc, argv, /*training_tool=*/true);
#else
  qseg::cli::set_command_line(argc, argv, /*training_tool=*/false);
  if (argc > 1 && qseg::cli::is_training_command(argv[1])) {
    const qseg::Status status = qseg::cli::run_training_tool();  // returns only on failure
    std::fprintf(stderr, "qseg: error: %s\n", status.message().c_str());
    return 1;
  }
#endif
  qseg::cli::add_eval_command(app, run);
  qseg::cli::add_compare_command(app, run);
#if defined(QSEG_TRAINING_TOOL)
  qseg::cli::add_import_command(app, run);
  qseg::cli::add_train_command(app, run);
  qseg::cli::add_launch_command(app, run);
#else  // listed in --help; forwarded to qseg-train above
  app.add_subcommand("import", std::string(qseg::cli::kImportDescription));
  app.add_subcommand("train", std::string(qseg::cli::kTrainDescription));
  app.add_subcommand("launch", std::string(qseg::cli::kLaunchDescription));
#endif
  qseg::cli::add_export_command(app, run);
  qseg::cli::add_convert_command(app, run);
  qseg::cli::add_bench_command(app, run);
  qseg::cli::add_diff_command(app, run);
#endif
  // A command by its name, or nullptr after one error line listing the commands there are.
  const auto command_named = [&app, commands](const char* name) -> CLI::App* {
    try {
      return app.get_subcommand(name);
    } catch (const CLI::OptionNotFound&) {
      std::fprintf(stderr, "qseg: error: unknown command '%s' (commands: %s; see qseg --help)\n",
                   name, commands);
      return nullptr;
    }
  };
  // `qseg help` and `qseg help CMD` print what --help prints.
  if (argc > 1 && std::string(argv[1]) == "help") {
    if (argc > 3) {
      std::fprintf(stderr, "qseg: error: usage: qseg help [COMMAND]\n");
      return 2;
    }
    if (argc == 2) {
      std::fputs(app.help().c_str(), stdout);
      return 0;
    }
    const CLI::App* command = command_named(argv[2]);
    if (!command) return 2;
    std::fputs(command->help("qseg").c_str(), stdout);
    return 0;
  }
  if (argc > 1 && argv[1][0] != '-' && !command_named(argv[1])) return 2;
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // A known command's own help says more than the list of commands.
    const std::string help = argc > 1 && argv[1][0] != '-' && app.got_subcommand(argv[1])
                                 ? std::string("qseg help ") + argv[1]
                                 : "qseg --help";
    std::fprintf(stderr, "qseg: error: %s (see %s)\n", e.what(), help.c_str());
    return 2;
  }
  const qseg::Status status = run ? run() : qseg::Status::error("no command given");
  if (!status.is_ok()) {
    std::fflush(stdout);  // what was printed before the error comes before it
    std::fprintf(stderr, "qseg: error: %s\n", qseg::cli::with_limit_flag(status.message()).c_str());
    // 2: the command line is wrong; 3: done for some inputs only (128 + N: stopped by signal N);
    // 1: the work failed.
    if (status.is_invalid_argument()) return 2;
    if (status.is_incomplete())
      return qseg::cli::interrupt_signal() != 0 ? 128 + qseg::cli::interrupt_signal() : 3;
    return 1;
  }
  return 0;
}

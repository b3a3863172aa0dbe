// What the qseg subcommands share: registration signatures, defaults, small output helpers.
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <functional>
#include <istream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "imgproc/image_io.h"
#include "qseg/interpreter.h"
#include "qseg/kernel_isa.h"
#include "qseg/requantization.h"
#include "qseg/status.h"
#include "qseg/tflite.h"

namespace qseg::cli {

// Each subcommand adds itself to the app and sets `run` to its action when it is chosen.
using Action = std::function<Status()>;
void add_segment_command(CLI::App& app, Action& run);
void add_run_command(CLI::App& app, Action& run);
void add_inspect_command(CLI::App& app, Action& run);
void add_eval_command(CLI::App& app, Action& run);
void add_compare_command(CLI::App& app, Action& run);
void add_import_command(CLI::App& app, Action& run);  // issue 4: training (libtorch)
void add_train_command(CLI::App& app, Action& run);
void add_launch_command(CLI::App& app, Action& run);  // issue 7: data-parallel training
void add_export_command(CLI::App& app, Action& run);  // issue 5: export and convert
void add_convert_command(CLI::App& app, Action& run);
void add_bench_command(CLI::App& app, Action& run);  // issue 6: speed
void add_diff_command(CLI::App& app, Action& run);   // qseg against the real TFLite

// The help every command prints: each option once, its value's kind ("INT", or the choices as
// {a,b}), never the validators' ranges, and its default in one form, "(default X)", at the end of
// the description. Set on the app before the subcommands are added (they inherit it).
void set_help_formatter(CLI::App& app);
// `qseg --version`: the version, the build (git commit, build type, compiler) and the kernels:
// what this CPU and build can run and what --kernels auto picks.
std::string version_text();

// An error message with the flag that raises the limit it names, e.g. "... exceeds the model size
// limit of 268435456 (--max-model-mb raises it)"; other messages unchanged. The library's
// messages name the limits, the command line knows their flags.
std::string with_limit_flag(const std::string& message);

// The shared data folder: $QSEG_SHARED, else the path configured at build time.
std::filesystem::path shared_dir();
std::filesystem::path default_model();

// Adds --requantization xnnpack|fixed-point (TFLite's default XNNPACK path, the default, or its
// built-in kernels); "float", the earlier name of xnnpack, is still accepted.
void add_requantization_option(CLI::App& command, Requantization& value);
// An error unless a file can be written at path (its folder exists and is writable): outputs are
// checked before the work that fills them.
Status check_writable(const std::filesystem::path& path);
// The JSON files the commands write (--json): indented by 2, ending in a newline, written
// atomically (write_file_atomically).
std::string json_text(const nlohmann::json& json);
Status write_json_file(const std::filesystem::path& path, const nlohmann::json& json);
// --kernels auto|reference|avx2|avx512-vnni.
void add_kernels_option(CLI::App& command, KernelIsa& value);

// What a command may allocate for the files it reads, checked before allocating. The defaults
// fit a device; the flags raise them: --max-model-mb (file), --max-tensor-mb, --max-ops,
// --max-tensors, --max-arena-mb and, with images, --max-image-mp (millions of pixels).
struct InputLimits {
  ModelLimits model;
  int64_t max_arena_bytes = InterpreterOptions{}.max_arena_bytes;
  ImageLimits image;
};
void add_limit_options(CLI::App& command, InputLimits& limits, bool images);
// The parts: --max-model-mb, --max-tensor-mb, --max-ops, --max-tensors and (when max_arena_bytes
// is given) --max-arena-mb; --max-image-mp.
void add_model_limit_options(CLI::App& command, ModelLimits& limits, int64_t* max_arena_bytes);
void add_image_limit_option(CLI::App& command, ImageLimits& limits);

// Flags from a TOML file ("steps = 2000", "data = [\"a\", \"b\"]", "quiet = true"): each one
// not given on the command line is set as if it had been (CLI11 2.1 reads config files only for
// the top-level app, so `qseg train --config` reads its own). Errors start with `name` (the file)
// and name the flag; sections and unknown flags are errors. An empty path is no file.
Status apply_config(CLI::App* cmd, std::istream& in, const std::string& name);
Status apply_config_file(CLI::App* cmd, const std::string& path);

// SIGINT and SIGTERM, caught from here on: the first one is only noted, so that a command can
// finish the photo in hand, stop and say what it wrote; a second one ends the process at once.
void catch_interrupts();
// The signal caught (SIGINT, SIGTERM), or 0. main() exits 128 + it after an interrupted command.
int interrupt_signal();
// "SIGINT", "SIGTERM".
std::string signal_name(int signal);

// "1 thread", "2 threads".
std::string threads_text(int threads);

// A positive thread count or an error naming the flag.
Status check_threads(int threads);

}  // namespace qseg::cli

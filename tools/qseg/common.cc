// The pieces every subcommand shares (common.h), apart from main.cc so the fuzz targets (fuzz/)
// can build the same option sets without main() and without libtorch.
#include "common.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "qseg/kernel_isa.h"

namespace qseg::cli {

namespace {

class HelpFormatter : public CLI::Formatter {
 public:
  // A negated flag is declared "--no-legend{false}" (the value it sets); the help shows its name.
  std::string make_option_name(const CLI::Option* opt, bool is_positional) const override {
    std::string name = CLI::Formatter::make_option_name(opt, is_positional);
    for (size_t open = name.find('{'); open != std::string::npos; open = name.find('{', open)) {
      const size_t close = name.find('}', open);
      if (close == std::string::npos) break;
      name.erase(open, close - open + 1);
    }
    return name;
  }
  std::string make_option_opts(const CLI::Option* opt) const override {
    if (!opt->get_option_text().empty()) return " " + opt->get_option_text();
    std::string out;
    if (opt->get_type_size() != 0) {
      // CLI11 joins the type and each validator's description with ':'; of those, only a list of
      // choices ("{a,b}") tells a user something the description does not.
      const std::string full = opt->get_type_name();
      std::string shown = full.substr(0, full.find(':'));
      for (size_t at = full.find(':'); at != std::string::npos; at = full.find(':', at + 1)) {
        if (full.compare(at + 1, 1, "{") == 0) {
          shown = full.substr(at + 1, full.find('}', at) - at);
          break;
        }
      }
      if (!shown.empty()) out += " " + shown;
      if (opt->get_expected_max() == CLI::detail::expected_max_vector_size) out += " ...";
      if (opt->get_required()) out += " (required)";
    }
    return out;
  }
  std::string make_option_desc(const CLI::Option* opt) const override {
    std::string desc = opt->get_description();
    const std::string& value = opt->get_default_str();
    // Flags have no value to show; a description that states its default already keeps it.
    if (opt->get_type_size() != 0 && !value.empty() && desc.find("(default") == std::string::npos)
      desc += " (default " + value + ")";
    return desc;
  }
};

}  // namespace

void set_help_formatter(CLI::App& app) { app.formatter(std::make_shared<HelpFormatter>()); }

std::string version_text() {
  std::ostringstream out;
  out << "qseg " << QSEG_VERSION << "\n";
  out << "build: commit " << QSEG_GIT_COMMIT << ", " << QSEG_BUILD_TYPE << ", " << QSEG_COMPILER
      << "\n";
  out << "kernels: reference";
  for (KernelIsa isa : available_optimized_kernel_isas()) out << ", " << kernel_isa_name(isa);
  out << " (this CPU and build); --kernels auto picks " << kernel_isa_name(best_kernel_isa())
      << "\n";
  return out.str();
}

std::string with_limit_flag(const std::string& message) {
  static const struct {
    const char* phrase;
    const char* flag;
  } kLimits[] = {
      {"model size limit", "--max-model-mb"}, {"tensor size limit", "--max-tensor-mb"},
      {"ops exceed the limit", "--max-ops"},  {"tensors exceed the limit", "--max-tensors"},
      {"arena limit", "--max-arena-mb"},
  };
  for (const auto& limit : kLimits) {
    if (message.find(limit.phrase) != std::string::npos &&
        message.find(limit.flag) == std::string::npos)
      return message + " (" + limit.flag + " raises it)";
  }
  return message;
}

std::filesystem::path shared_dir() {
  if (const char* env = std::getenv("QSEG_SHARED"); env && *env) return env;
  return QSEG_DEFAULT_SHARED_DIR;
}

std::filesystem::path default_model() {
  return shared_dir() / "models" / "deeplabv3_mnv2_dm05_pascal_quant.tflite";
}

void add_model_limit_options(CLI::App& command, ModelLimits& limits, int64_t* max_arena_bytes) {
  const auto mib = [](int64_t bytes) { return std::to_string(bytes >> 20); };
  command
      .add_option_function<int64_t>(
          "--max-model-mb", [&limits](int64_t mb) { limits.max_file_bytes = mb << 20; },
          "Largest model file to read, MiB (default " + mib(limits.max_file_bytes) + ")")
      ->check(CLI::Range(int64_t{1}, int64_t{2047}));
  command
      .add_option_function<int64_t>(
          "--max-tensor-mb", [&limits](int64_t mb) { limits.max_tensor_bytes = mb << 20; },
          "Largest tensor a model may declare, MiB (default " + mib(limits.max_tensor_bytes) + ")")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  command.add_option("--max-ops", limits.max_ops, "Most ops a model may have")
      ->check(CLI::Range(int64_t{1}, int64_t{10'000'000}))
      ->capture_default_str();
  command.add_option("--max-tensors", limits.max_tensors, "Most tensors a model may have")
      ->check(CLI::Range(int64_t{1}, int64_t{10'000'000}))
      ->capture_default_str();
  if (max_arena_bytes) {
    command
        .add_option_function<int64_t>(
            "--max-arena-mb", [max_arena_bytes](int64_t mb) { *max_arena_bytes = mb << 20; },
            "Largest tensor arena to plan, MiB (default " + mib(*max_arena_bytes) + ")")
        ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  }
}

void add_image_limit_option(CLI::App& command, ImageLimits& limits) {
  command
      .add_option_function<int64_t>(
          "--max-image-mp", [&limits](int64_t mp) { limits.max_pixels = mp * 1'000'000; },
          "Largest image to decode, millions of pixels (default " +
              std::to_string(limits.max_pixels / 1'000'000) + ")")
      ->check(CLI::Range(int64_t{1}, int64_t{4000}));
}

void add_limit_options(CLI::App& command, InputLimits& limits, bool images) {
  add_model_limit_options(command, limits.model, &limits.max_arena_bytes);
  if (images) add_image_limit_option(command, limits.image);
}

void add_requantization_option(CLI::App& command, Requantization& value) {
  command
      .add_option_function<std::string>(
          "--requantization",
          [&value](const std::string& name) { parse_requantization(name, &value); },
          "8-bit arithmetic: xnnpack (the default: TFLite's default CPU path, its XNNPACK "
          "delegate) or fixed-point (TFLite's built-in kernels without XNNPACK, TFLite Micro)")
      ->check(CLI::IsMember({"xnnpack", "fixed-point", "float"}));
}

Status check_writable(const std::filesystem::path& path) {
  const std::filesystem::path parent =
      path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
  std::error_code ec;
  if (!std::filesystem::is_directory(parent, ec))
    return Status::error(path.string() + ": the folder " + parent.string() + " does not exist");
  if (std::filesystem::is_directory(path, ec))
    return Status::error(path.string() + " is a folder, not a file to write");
  if (::access(parent.c_str(), W_OK) != 0)
    return Status::error(path.string() + ": cannot write in " + parent.string() + ": " +
                         std::strerror(errno));
  return Status::ok();
}

std::string json_text(const nlohmann::json& json) { return json.dump(2) + "\n"; }

Status write_json_file(const std::filesystem::path& path, const nlohmann::json& json) {
  const std::string text = json_text(json);
  return write_file_atomically(
      path, std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

void add_kernels_option(CLI::App& command, KernelIsa& value) {
  command
      .add_option_function<std::string>(
          "--kernels", [&value](const std::string& name) { parse_kernel_isa(name, &value); },
          "Kernels: auto (the fastest this CPU supports, bit-exact with the reference), "
          "reference, avx2, avx512-vnni, avx512-amx, neon or neon-dotprod")
      ->check(CLI::IsMember(
          {"auto", "reference", "avx2", "avx512-vnni", "avx512-amx", "neon", "neon-dotprod"}));
}

namespace {
volatile std::sig_atomic_t g_interrupt_signal = 0;
extern "C" void note_interrupt(int signal) { g_interrupt_signal = signal; }
}  // namespace

void catch_interrupts() {
  struct sigaction action {};
  action.sa_handler = note_interrupt;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESETHAND;  // the next one gets the default: the end of the process
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

int interrupt_signal() { return g_interrupt_signal; }

std::string signal_name(int signal) {
  switch (signal) {
    case SIGINT:
      return "SIGINT";
    case SIGTERM:
      return "SIGTERM";
    default:
      return "signal " + std::to_string(signal);
  }
}

std::string threads_text(int threads) {
  return std::to_string(threads) + (threads == 1 ? " thread" : " threads");
}

Status check_threads(int threads) {
  if (threads < 1 || threads > 256)
    return Status::invalid_argument("--threads must be between 1 and 256, got " +
                                    std::to_string(threads));
  return Status::ok();
}

Status apply_config(CLI::App* cmd, std::istream& in, const std::string& name) {
  std::vector<CLI::ConfigItem> items;
  try {
    items = CLI::ConfigTOML().from_config(in);
  } catch (const CLI::Error& e) {
    return Status::error("cannot read config " + name + ": " + e.what());
  }
  for (const CLI::ConfigItem& item : items) {
    if (!item.parents.empty())
      return Status::error(name + ": sections are not supported ([" + item.parents[0] + "])");
    CLI::Option* option =
        item.name == "config" ? nullptr : cmd->get_option_no_throw("--" + item.name);
    if (!option) return Status::error(name + ": unknown flag '" + item.name + "'");
    if (option->count() > 0) continue;  // the command line wins
    try {
      option->add_result(item.inputs);
      option->run_callback();
    } catch (const CLI::Error& e) {
      return Status::error(name + ": " + item.name + ": " + e.what());
    }
  }
  return Status::ok();
}

Status apply_config_file(CLI::App* cmd, const std::string& path) {
  if (path.empty()) return Status::ok();
  std::ifstream in(path);
  if (!in) return Status::error("cannot read config " + path + ": " + std::strerror(errno));
  return apply_config(cmd, in, path);
}

}  // namespace qseg::cli

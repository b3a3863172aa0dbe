// `qseg bench`: how fast a model runs in qseg's runtime (median/min/max over runs, time per op
// and per op type with GMAC/s and the fraction of a given peak, arena, peak RSS, model size),
// optionally beside the real TensorFlow Lite (the oracle, run by Node) in the same run.
#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>

#include "common.h"
#include "io/durable_write.h"
#include "oracle.h"
#include "peak.h"
#include "qseg/analysis.h"
#include "qseg/interpreter.h"
#include "qseg/tflite.h"

namespace qseg::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct BenchArgs {
  std::string model;
  int threads = 1;
  int runs = 10;
  int warmup = 1;
  std::string input;  // raw bytes of input 0; default: a fixed pseudo-random input
  std::string against;
  std::string oracle;  // the oracle folder (default: tflite-oracle beside the qseg binary)
  std::string json;
  double peak_gmacs = 0;  // one core's multiply-add peak for every op; 0: measured per kernel
  Requantization requantization = Requantization::kXnnpack;
  KernelIsa kernels = KernelIsa::kAuto;
  bool fuse_blocks = false;
  InputLimits limits;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::filesystem::path oracle_dir(const BenchArgs& args) {
  return args.oracle.empty() ? default_oracle_dir() : std::filesystem::path(args.oracle);
}

// What the run needs besides the model, checked before any timing: the oracle of --against and
// the folder of --json.
Status check_bench_outputs(const BenchArgs& args) {
  if (args.against == "tflite" && !std::filesystem::exists(oracle_dir(args) / "tflite_run.js")) {
    return Status::error("no TFLite oracle in " + oracle_dir(args).string() +
                         " (install it: ../shared/tools/tflite-oracle/setup.sh DIR, then --oracle "
                         "DIR)");
  }
  if (!args.json.empty()) QSEG_RETURN_IF_ERROR(check_writable(args.json));
  return Status::ok();
}

// Median of the real TFLite's timed runs (the oracle's own clock around each invoke).
Result<double> run_oracle(const BenchArgs& args, const std::vector<uint8_t>& input) {
  const std::filesystem::path dir = oracle_dir(args);
  const auto tmp = std::filesystem::temp_directory_path() /
                   fmt::format("qseg-bench-{}", static_cast<long>(::getpid()));
  std::filesystem::create_directories(tmp);
  QSEG_RETURN_IF_ERROR(io::write_file_durably(tmp / "input.raw", input.data(), input.size()));
  const std::string command =
      fmt::format("node '{}' '{}' '{}' '{}' --threads {} --runs {} > '{}' 2>&1",
                  (dir / "tflite_run.js").string(), args.model, (tmp / "input.raw").string(),
                  (tmp / "out.bin").string(), args.threads, args.runs, (tmp / "log.txt").string());
  const int status = std::system(command.c_str());
  nlohmann::json result;
  std::ifstream in(tmp / "out.bin.json");
  if (status == 0 && in) result = nlohmann::json::parse(in, nullptr, false);
  std::filesystem::remove_all(tmp);
  if (status != 0 || result.is_discarded() || !result.contains("runsMs"))
    return Status::error("the real TFLite (oracle) failed on " + args.model);
  return median(result["runsMs"].get<std::vector<double>>());
}

Status run_bench(const BenchArgs& args) {
  QSEG_RETURN_IF_ERROR(check_threads(args.threads));
  if (args.runs < 1 || args.runs > 100000)
    return Status::invalid_argument("--runs must be in [1, 100000]");
  if (args.warmup < 0) return Status::invalid_argument("--warmup must be >= 0");
  if (!(args.peak_gmacs >= 0))
    return Status::invalid_argument("--peak-gmacs must be positive (0: measured)");
  QSEG_RETURN_IF_ERROR(check_bench_outputs(args));
  QSEG_ASSIGN_OR_RETURN(Graph graph, read_tflite_file(args.model, args.limits.model));
  const Graph info = graph;
  InterpreterOptions options;
  options.num_threads = args.threads;
  options.requantization = args.requantization;
  options.kernel_isa = args.kernels;
  options.max_arena_bytes = args.limits.max_arena_bytes;
  options.fuse_inverted_residuals = args.fuse_blocks;
  QSEG_ASSIGN_OR_RETURN(auto interpreter, Interpreter::create(std::move(graph), options));
  const auto bytes = interpreter->input_bytes();
  std::vector<uint8_t> input(bytes.size());
  if (!args.input.empty()) {
    std::ifstream in(args.input, std::ios::binary);
    if (!in) return Status::error("cannot open " + args.input);
    in.read(reinterpret_cast<char*>(input.data()), static_cast<std::streamsize>(input.size()));
    if (in.gcount() != static_cast<std::streamsize>(input.size()) || in.peek() != EOF) {
      return Status::error(
          fmt::format("{}: the model's input takes exactly {} bytes", args.input, input.size()));
    }
  } else if (interpreter->input_tensor().type == DataType::kFloat32) {
    std::mt19937 random(1);
    std::uniform_real_distribution<float> value(-1.0f, 1.0f);
    for (size_t i = 0; i + 4 <= input.size(); i += 4) {
      const float v = value(random);
      std::memcpy(&input[i], &v, 4);
    }
  } else {
    std::mt19937 random(1);
    for (uint8_t& b : input) b = static_cast<uint8_t>(random());
  }
  std::copy(input.begin(), input.end(), bytes.begin());

  const size_t ops = info.ops.size();
  std::vector<std::vector<double>> op_ms(ops);
  std::vector<double> total_ms;
  for (int r = 0; r < args.warmup + args.runs; ++r) {
    const auto start = Clock::now();
    auto last = start;
    std::vector<double> this_run(ops);
    interpreter->invoke([&](int op) {
      const auto now = Clock::now();
      this_run[op] = std::chrono::duration<double, std::milli>(now - last).count();
      last = now;
    });
    if (r < args.warmup) continue;
    total_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    for (size_t i = 0; i < ops; ++i) op_ms[i].push_back(this_run[i]);
  }

  // Each op's peak: --peak-gmacs, else the peak measured here for the kernel variant it ran
  // (peak.h), times the threads; none for variants without one (reference, AMX, NEON, fused).
  const auto op_peak = [&](size_t i) -> std::optional<double> {
    if (args.peak_gmacs > 0) return args.peak_gmacs * args.threads;
    const auto peak = measured_peak_gmacs(interpreter->kernel_variant(static_cast<int>(i)));
    if (!peak) return std::nullopt;
    return *peak * args.threads;
  };
  // "Of peak" for a set of ops: the time they would take at their peaks over the time they took;
  // nothing when an op with multiply-adds has no peak.
  struct Roofline {
    double peak_ms = 0;
    bool known = true;
    void add(int64_t macs, std::optional<double> peak) {
      if (macs == 0) return;
      if (!peak)
        known = false;
      else
        peak_ms += macs / *peak / 1e6;
    }
    std::string of(double ms) const {
      return known && peak_ms > 0 && ms > 0 ? fmt::format("{:.1f}%", 100.0 * peak_ms / ms) : "-";
    }
  };

  // Per op type: median time of each op summed, multiply-adds, GMAC/s.
  struct TypeRow {
    int count = 0;
    double ms = 0;
    int64_t macs = 0;
    Roofline roofline;
  };
  std::map<std::string, TypeRow> by_type;
  Roofline model_roofline;
  std::map<std::string, double> peaks_used;  // variant -> GMAC/s of the threads, for the header
  for (size_t i = 0; i < ops; ++i) {
    TypeRow& row = by_type[std::string(op_type_name(info.ops[i].type))];
    const int64_t op_macs = op_multiply_adds(info, static_cast<int>(i));
    const std::optional<double> peak = op_peak(i);
    ++row.count;
    row.ms += median(op_ms[i]);
    row.macs += op_macs;
    row.roofline.add(op_macs, peak);
    model_roofline.add(op_macs, peak);
    if (op_macs > 0 && peak) peaks_used[std::string(interpreter->kernel_variant(int(i)))] = *peak;
  }
  const double med = median(total_ms);
  const double lo = *std::min_element(total_ms.begin(), total_ms.end());
  const double hi = *std::max_element(total_ms.begin(), total_ms.end());
  const int64_t macs = total_multiply_adds(info);
  std::error_code ec;
  const auto model_bytes = std::filesystem::file_size(args.model, ec);
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);

  fmt::print("model {} ({} bytes, {} ops, {:.3f} G multiply-adds)\n", args.model,
             ec ? 0 : model_bytes, ops, macs / 1e9);
  const std::string model_of_peak = model_roofline.of(med);
  fmt::print(
      "qseg ({} kernels), {} {}, {} runs after {} warm-up: median {:.2f} ms, min {:.2f}, "
      "max {:.2f}; {:.1f} GMAC/s{}\n",
      kernel_isa_name(interpreter->kernel_isa()), args.threads,
      args.threads == 1 ? "thread" : "threads", args.runs, args.warmup, med, lo, hi,
      macs / med / 1e6, model_of_peak == "-" ? "" : " (" + model_of_peak + " of peak)");
  std::string peaks_text;
  for (const auto& [variant, peak] : peaks_used)
    peaks_text += fmt::format("{}{} {:.0f} GMAC/s", peaks_text.empty() ? "" : ", ", variant, peak);
  if (args.peak_gmacs > 0)
    fmt::print("peak: {:.0f} GMAC/s ({:g} per core, --peak-gmacs)\n",
               args.peak_gmacs * args.threads, args.peak_gmacs);
  else if (!peaks_text.empty())
    fmt::print("peak, measured on this CPU for {} {}: {}{}\n", args.threads,
               args.threads == 1 ? "core" : "cores", peaks_text,
               model_roofline.known ? "" : "; none for the other kernels (of peak: -)");
  else
    fmt::print("peak: none for these kernels (--peak-gmacs N gives one)\n");
  fmt::print("arena {} bytes, peak RSS {} KiB\n\n", interpreter->arena_bytes(), usage.ru_maxrss);
  fmt::print("{:<20} {:>5} {:>10} {:>7} {:>10} {:>8}\n", "op type", "ops", "ms", "share", "GMAC/s",
             "of peak");
  for (const auto& [type, row] : by_type) {
    const double gmacs = row.ms > 0 ? row.macs / row.ms / 1e6 : 0.0;
    fmt::print("{:<20} {:>5} {:>10.2f} {:>6.1f}% {:>10} {:>8}\n", type, row.count, row.ms,
               100.0 * row.ms / med, row.macs ? fmt::format("{:.1f}", gmacs) : "-",
               row.macs ? row.roofline.of(row.ms) : "-");
  }
  fmt::print("\n{:>4} {:<18} {:>9} {:>10}  {}\n", "op", "type", "ms", "GMAC/s", "kernel");
  for (size_t i = 0; i < ops; ++i) {
    const double ms = median(op_ms[i]);
    const int64_t m = op_multiply_adds(info, static_cast<int>(i));
    const std::string_view variant = interpreter->kernel_variant(static_cast<int>(i));
    fmt::print("{:>4} {:<18} {:>9.3f} {:>10}  {}\n", i, op_type_name(info.ops[i].type), ms,
               m && ms > 0 && variant != "fused" ? fmt::format("{:.1f}", m / ms / 1e6) : "-",
               variant);
  }

  nlohmann::json out = {{"model", args.model},
                        {"threads", args.threads},
                        {"kernels", std::string(kernel_isa_name(interpreter->kernel_isa()))},
                        {"runs", args.runs},
                        {"median_ms", med},
                        {"min_ms", lo},
                        {"max_ms", hi},
                        {"multiply_adds", macs},
                        {"peak_gmacs", peaks_used},
                        {"arena_bytes", interpreter->arena_bytes()},
                        {"peak_rss_kib", usage.ru_maxrss},
                        {"model_bytes", ec ? 0 : model_bytes}};
  if (args.against == "tflite") {
    QSEG_ASSIGN_OR_RETURN(const double tflite_ms, run_oracle(args, input));
    fmt::print(
        "\nreal TFLite (WebAssembly + XNNPACK), {} {}, median {:.2f} ms: qseg is "
        "{:.2f}x {}\n",
        args.threads, args.threads == 1 ? "thread" : "threads", tflite_ms,
        med < tflite_ms ? tflite_ms / med : med / tflite_ms, med < tflite_ms ? "faster" : "slower");
    out["tflite_median_ms"] = tflite_ms;
  }
  if (!args.json.empty()) {
    QSEG_RETURN_IF_ERROR(write_json_file(args.json, out));
  }
  return Status::ok();
}

}  // namespace

void add_bench_command(CLI::App& app, Action& run) {
  auto args = std::make_shared<BenchArgs>();
  CLI::App* cmd = app.add_subcommand("bench", "Time a model: per op, per op type, against TFLite");
  cmd->add_option("--model", args->model, "Model .tflite")->required();
  cmd->add_option("--threads", args->threads, "Threads")->capture_default_str();
  cmd->add_option("--runs", args->runs, "Timed runs")->capture_default_str();
  cmd->add_option("--warmup", args->warmup, "Untimed runs first")->capture_default_str();
  cmd->add_option("--input", args->input, "Raw input bytes (default: fixed pseudo-random)");
  cmd->add_option("--against", args->against, "Also time the real TFLite (oracle): tflite")
      ->check(CLI::IsMember({"tflite"}));
  cmd->add_option("--oracle", args->oracle,
                  "The TFLite oracle folder (default: tflite-oracle beside the qseg binary)");
  cmd->add_option("--json", args->json, "Write the figures as JSON here");
  cmd->add_option(
         "--peak-gmacs", args->peak_gmacs,
         "One core's multiply-add peak (GMAC/s) for the 'of peak' columns, for every "
         "op; 0: measured here for each op's kernels (AVX2, AVX-512 VNNI), none for others")
      ->capture_default_str();
  add_requantization_option(*cmd, args->requantization);
  add_kernels_option(*cmd, args->kernels);
  add_limit_options(*cmd, args->limits, /*images=*/false);
  cmd->add_flag("--fuse-blocks", args->fuse_blocks,
                "Run each inverted residual block as one kernel over bands of rows (less memory)");
  cmd->callback([args, &run] { run = [args] { return run_bench(*args); }; });
}

}  // namespace qseg::cli

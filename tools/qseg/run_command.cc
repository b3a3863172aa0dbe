// `qseg run`: one exact raw input tensor in, the raw output tensor out; optionally every op's
// output dumped as raw files with an index.json (the layout of the golden layer dumps).
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <vector>

#include "common.h"
#include "imgproc/image_io.h"
#include "qseg/interpreter.h"
#include "qseg/tflite.h"

// Empty functions called just before and after the first inference, and after each of its ops:
// scripts/count_instructions.sh counts the instructions executed between them under the emulator
// (its log names the function of every block it runs); bench/xnnpack_bench.cc calls the same.
// Not inlined, and each with its own side effect so they are not merged.
extern "C" {
[[gnu::noinline]] void qseg_inference_begin() {
  static volatile int calls = 0;
  calls = calls + 1;
}
[[gnu::noinline]] void qseg_inference_end() {
  static volatile int calls = 0;
  calls = calls + 1;
}
[[gnu::noinline]] void qseg_op_end() {
  static volatile int calls = 0;
  calls = calls + 1;
}
}

namespace qseg::cli {
namespace {

struct RunArgs {
  std::string model, input, output, dump_dir;
  int threads = 1;
  int repeat = 1;
  Requantization requantization = Requantization::kXnnpack;
  KernelIsa kernels = KernelIsa::kAuto;
  InputLimits limits;
};

std::string file_extension(DataType type) {
  switch (type) {
    case DataType::kUInt8:
      return "u8";
    case DataType::kInt8:
      return "i8";
    case DataType::kInt16:
      return "i16";
    case DataType::kInt32:
      return "i32";
    case DataType::kInt64:
      return "i64";
    case DataType::kFloat32:
      return "f32";
    case DataType::kBool:
      return "b8";
  }
  return "bin";
}

std::span<const uint8_t> tensor_bytes(const Interpreter& interp, int index) {
  return {static_cast<const uint8_t*>(interp.tensor_data(index)),
          static_cast<size_t>(interp.tensor(index).byte_size())};
}

Status run_model(const RunArgs& args) {
  QSEG_RETURN_IF_ERROR(check_threads(args.threads));
  if (args.repeat < 1 || args.repeat > 10000)
    return Status::invalid_argument("--repeat must be between 1 and 10000, got " +
                                    std::to_string(args.repeat));
  QSEG_ASSIGN_OR_RETURN(Graph graph, read_tflite_file(args.model, args.limits.model));
  InterpreterOptions options;
  options.num_threads = args.threads;
  options.requantization = args.requantization;
  options.kernel_isa = args.kernels;
  options.max_arena_bytes = args.limits.max_arena_bytes;
  // Dumping reads every op's outputs: keep them all (and so no fused op skips a tensor).
  options.preserve_all_tensors = !args.dump_dir.empty();
  auto created = Interpreter::create(std::move(graph), options);
  if (!created.is_ok()) return created.status().with_context(args.model);
  Interpreter& interp = *created.value();
  if (interp.graph().inputs.size() != 1)
    return Status::error(args.model + ": qseg run supports models with one input");
  QSEG_ASSIGN_OR_RETURN(auto input, read_file_bytes(args.input));
  auto destination = interp.input_bytes(0);
  if (input.size() != destination.size()) {
    const Tensor& t = interp.input_tensor(0);
    std::string shape;
    for (auto d : t.shape) shape += (shape.empty() ? "" : "x") + std::to_string(d);
    return Status::error(
        fmt::format("{}: holds {} bytes, the model input ({} {}) needs {} (raw, uncompressed)",
                    args.input, input.size(), data_type_name(t.type), shape, destination.size()));
  }
  std::copy(input.begin(), input.end(), destination.begin());

  nlohmann::json index = nlohmann::json::array();
  Status dump_status;
  const bool dump = !args.dump_dir.empty();
  if (dump) {
    std::error_code ec;
    std::filesystem::create_directories(args.dump_dir, ec);
    if (ec) return Status::error("cannot create " + args.dump_dir + ": " + ec.message());
  }
  qseg_inference_begin();
  auto start = std::chrono::steady_clock::now();
  interp.invoke([&](int op_index) {
    qseg_op_end();
    if (!dump || !dump_status.is_ok()) return;
    for (int32_t t : interp.graph().ops[op_index].outputs) {
      const Tensor& tensor = interp.tensor(t);
      const std::string file =
          fmt::format("op{:02d}_t{:03d}.{}", op_index, t, file_extension(tensor.type));
      dump_status = write_file_atomically(std::filesystem::path(args.dump_dir) / file,
                                          tensor_bytes(interp, t));
      if (!dump_status.is_ok()) return;
      nlohmann::json entry = {{"op_index", op_index},
                              {"op", std::string(op_type_name(interp.graph().ops[op_index].type))},
                              {"tensor_index", t},
                              {"name", tensor.name},
                              {"dtype", std::string(data_type_name(tensor.type))},
                              {"shape", tensor.shape},
                              {"file", file}};
      if (!tensor.quant.empty()) {
        entry["scale"] = tensor.quant.scale[0];
        entry["zero_point"] = tensor.quant.zero_point[0];
      }
      index.push_back(entry);
    }
  });
  std::vector<double> times = {
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count()};
  qseg_inference_end();
  QSEG_RETURN_IF_ERROR(dump_status);
  // Further runs on the same input (the output is the same): timing, and a whole inference's cost
  // as the difference of two processes that differ only in --repeat. The input is copied in again
  // before each, untimed: the arena planner gives the input tensor's memory to later ops.
  for (int r = 1; r < args.repeat; ++r) {
    std::copy(input.begin(), input.end(), destination.begin());
    start = std::chrono::steady_clock::now();
    interp.invoke();
    times.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count());
  }
  std::nth_element(times.begin(), times.begin() + times.size() / 2, times.end());
  const double ms = times[times.size() / 2];
  if (dump) {
    nlohmann::json doc = {
        {"model", std::filesystem::path(args.model).filename().string()},
        {"input", args.input},
        {"runtime", fmt::format("qseg {} kernels", kernel_isa_name(interp.kernel_isa()))},
        {"tensors", index}};
    const std::string text = doc.dump(1);
    QSEG_RETURN_IF_ERROR(write_file_atomically(
        std::filesystem::path(args.dump_dir) / "index.json",
        std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size())));
  }
  for (size_t i = 0; i < interp.graph().outputs.size(); ++i) {
    const std::string path = i == 0 ? args.output : args.output + "." + std::to_string(i);
    QSEG_RETURN_IF_ERROR(write_file_atomically(path, interp.output_bytes(static_cast<int>(i))));
  }
  fmt::print("{}: ran {} ops in {:.1f} ms{} ({} kernels, {}, arena {} bytes) -> {}\n", args.model,
             interp.graph().ops.size(), ms,
             args.repeat > 1 ? fmt::format(" (median of {} runs)", args.repeat) : "",
             kernel_isa_name(interp.kernel_isa()), threads_text(args.threads), interp.arena_bytes(),
             args.output);
  return Status::ok();
}

}  // namespace

void add_run_command(CLI::App& app, Action& run) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* cmd = app.add_subcommand(
      "run", "Run a model on an exact raw input tensor and write the raw output tensor");
  cmd->add_option("--model", args->model, "Model .tflite")->required();
  cmd->add_option("--input", args->input, "Raw input tensor bytes (e.g. uint8 NHWC RGB)")
      ->required();
  cmd->add_option("--output", args->output,
                  "Where to write the raw output tensor (the model's own type)")
      ->required();
  cmd->add_option("--dump-dir", args->dump_dir,
                  "Also write every op's output tensor here, with index.json");
  cmd->add_option("--threads", args->threads, "Threads")->capture_default_str();
  cmd->add_option("--repeat", args->repeat,
                  "Run the model this many times on the input and report the median time")
      ->capture_default_str();
  add_requantization_option(*cmd, args->requantization);
  add_kernels_option(*cmd, args->kernels);
  add_limit_options(*cmd, args->limits, /*images=*/false);
  cmd->callback([args, &run] { run = [args] { return run_model(*args); }; });
}

}  // namespace qseg::cli

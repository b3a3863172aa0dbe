// qseg_torch_float_bench: the libtorch float32 baseline of the benchmark table (bench/compare.sh).
// A published DeepLab .tflite (uint8 or float) is imported into the libtorch model of src/train
// (folded: conv + bias, uint8 weights dequantized) and timed in float32 inference doing the same
// work as the uint8 .tflite: a 1x3xSxS image in, the logits resized to SxS (bilinear, corners
// aligned) and the ArgMax over classes out. The "body" is the network's forward alone.
//
// Usage: qseg_torch_float_bench --tflite MODEL.tflite [--input-size 513] [--output-stride 16]
//          [--threads N] [--runs K] [--warmup W] [--memory-format auto|nchw|channels-last]
//          [--json OUT] [--input RAW_FLOAT32_NHWC] [--labels OUT_INT64]
// With --memory-format auto (the default) both layouts are tried on a few runs and the faster is
// kept for the timed runs. The model's convolutions run channels-last whatever the choice (see
// run_conv_layer in src/train/model.cc); the choice is the layout of the input image and of the
// stored weights (nchw: reordered by every convolution call, as in training).
//
// libtorch 1.13 runs the 1x1 stride-1 convolutions through oneDNN only with more than one thread
// (a heuristic in ATen's convolution dispatch; with one thread they take its native path), so two
// threads come out more than twice as fast as one.
//
// Compiled as C++17 (libtorch 1.13's headers are not C++20), so the .tflite is read through
// train/support/files.h (qseg's reader, read_tflite_file, behind a C++17 header).
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "train/import.h"
#include "train/support/files.h"
#include "model/tflite_weights.h"

namespace qseg::bench {
namespace {

using Clock = std::chrono::steady_clock;
namespace F = torch::nn::functional;

constexpr const char* kProgram = "qseg_torch_float_bench";
constexpr int kTrialRuns = 5;  // per layout, with --memory-format auto

struct BenchArgs {
  std::string tflite;
  int input_size = 513;
  int output_stride = 16;
  int threads = 1;
  int runs = 10;
  int warmup = 2;
  std::string memory_format = "auto";
  std::string json;
  std::string input;   // raw float32 [1, S, S, 3] (the float .tflite's input); default: random
  std::string labels;  // where to write the class ids, raw int64 [1, S, S] (as the .tflite's)
};

// Times of the timed runs: the whole (image in, labels out) and the body (forward only).
struct Timings {
  std::vector<double> whole_ms;
  std::vector<double> body_ms;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double elapsed_ms(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

std::string format_name(bool channels_last) { return channels_last ? "channels_last" : "nchw"; }

// Stores the weights in the given layout; returns the image in it.
torch::Tensor use_memory_format(train::DeepLabModel& model, const torch::Tensor& image,
                                bool channels_last) {
  const auto format = channels_last ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
  for (train::ConvLayer& layer : model.layers()) layer.weight = layer.weight.contiguous(format);
  return image.contiguous(format);
}

// Class ids [1, S, S] of one image: forward (NCHW logits), resized to S x S, ArgMax.
torch::Tensor segment(train::DeepLabModel& model, const torch::Tensor& image, int size,
                      double* body_ms) {
  const auto start = Clock::now();
  const torch::Tensor logits = model.forward(image, train::ForwardOptions{});
  const auto body_end = Clock::now();
  const torch::Tensor scores = F::interpolate(logits, F::InterpolateFuncOptions()
                                                          .size(std::vector<int64_t>{size, size})
                                                          .mode(torch::kBilinear)
                                                          .align_corners(true));
  // The ArgMax over classes as max's indices: the same ids (the first of equal maxima), but
  // libtorch 1.13's argmax over a non-innermost dimension takes ~35 ms here against ~8 ms.
  torch::Tensor labels = std::get<1>(scores.max(1));
  if (body_ms) *body_ms = elapsed_ms(start, body_end);
  return labels;
}

Timings time_runs(train::DeepLabModel& model, const torch::Tensor& image, int size, int warmup,
                  int runs, torch::Tensor* labels) {
  Timings t;
  for (int r = 0; r < warmup + runs; ++r) {
    double body = 0;
    const auto start = Clock::now();
    *labels = segment(model, image, size, &body);
    const double whole = elapsed_ms(start, Clock::now());
    if (r < warmup) continue;
    t.whole_ms.push_back(whole);
    t.body_ms.push_back(body);
  }
  return t;
}

Status write_json(const std::string& path, const nlohmann::json& out) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp);
    f << out.dump(2) << "\n";
    if (!f) return Status::error("cannot write " + path);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Status::error("cannot write " + path + ": " + ec.message());
  return Status::ok();
}

// A raw float32 NHWC image [1, size, size, 3] as [1, 3, size, size].
Result<torch::Tensor> read_input(const std::string& path, int size) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::error("cannot open " + path);
  const int64_t values = int64_t{3} * size * size;
  std::vector<float> pixels(static_cast<size_t>(values));
  const auto bytes = static_cast<std::streamsize>(values * sizeof(float));
  in.read(reinterpret_cast<char*>(pixels.data()), bytes);
  if (in.gcount() != bytes || in.peek() != EOF) {
    return Status::error(path + ": the input takes exactly " + std::to_string(bytes) +
                         " bytes (float32 1x" + std::to_string(size) + "x" + std::to_string(size) +
                         "x3)");
  }
  return torch::from_blob(pixels.data(), {1, size, size, 3}, torch::kFloat32)
      .permute({0, 3, 1, 2})
      .contiguous();
}

Status run_bench(const BenchArgs& args) {
  if (args.threads < 1 || args.threads > 256)
    return Status::error("--threads must be between 1 and 256, got " +
                         std::to_string(args.threads));
  if (args.runs < 1 || args.runs > 100000) return Status::error("--runs must be in [1, 100000]");
  if (args.warmup < 0 || args.warmup > 1000) return Status::error("--warmup must be in [0, 1000]");
  if (args.input_size < 17 || args.input_size > 4097)
    return Status::error("--input-size must be in [17, 4097], got " +
                         std::to_string(args.input_size));
  if (args.output_stride != 8 && args.output_stride != 16 && args.output_stride != 32)
    return Status::error("--output-stride must be 8, 16 or 32, got " +
                         std::to_string(args.output_stride));
  if (!std::filesystem::is_regular_file(args.tflite))
    return Status::error("no such model file: " + args.tflite);

  if (!args.json.empty()) {
    const std::filesystem::path parent = std::filesystem::path(args.json).parent_path();
    if (!parent.empty() && !std::filesystem::is_directory(parent))
      return Status::error("cannot write " + args.json + ": no folder " + parent.string());
  }

  torch::set_num_threads(args.threads);
  QSEG_ASSIGN_OR_RETURN(Graph graph, train::read_tflite_graph(args.tflite));
  QSEG_ASSIGN_OR_RETURN(model::ImportedWeights weights,
                        model::extract_deeplab_weights(graph, args.tflite));
  QSEG_ASSIGN_OR_RETURN(train::DeepLabModel model,
                        train::build_imported_model(weights, args.output_stride, args.input_size));

  c10::InferenceMode inference;
  const int size = args.input_size;
  torch::Tensor image;
  if (args.input.empty()) {
    torch::manual_seed(1);
    image = torch::rand({1, 3, size, size}) * 2 - 1;  // [-1, 1], as 2/255 x - 1
  } else {
    QSEG_ASSIGN_OR_RETURN(image, read_input(args.input, size));
  }

  // The layout: the one asked for, or the faster of both on a short trial that alternates them
  // run by run (so a change in the machine's load hits both alike).
  bool channels_last = args.memory_format == "channels-last";
  nlohmann::json trial = nlohmann::json::object();
  torch::Tensor labels;
  if (args.memory_format == "auto") {
    const int trial_runs = std::min(args.runs, kTrialRuns);
    Timings trial_times[2];
    torch::Tensor trial_labels[2];
    for (int r = 0; r < args.warmup + trial_runs; ++r) {
      for (const bool cl : {false, true}) {
        const torch::Tensor x = use_memory_format(model, image, cl);
        const Timings t = time_runs(model, x, size, r < args.warmup ? 1 : 0,
                                    r < args.warmup ? 0 : 1, &trial_labels[cl]);
        for (double ms : t.whole_ms) trial_times[cl].whole_ms.push_back(ms);
      }
    }
    for (const bool cl : {false, true}) {
      const double m = median(trial_times[cl].whole_ms);
      trial[format_name(cl)] = m;
      std::printf("trial %s: median %.2f ms over %d run(s)\n", format_name(cl).c_str(), m,
                  trial_runs);
    }
    channels_last = trial["channels_last"].get<double>() < trial["nchw"].get<double>();
    const double agreement =
        trial_labels[1].eq(trial_labels[0]).to(torch::kFloat64).mean().item<double>();
    std::printf("labels agree between the layouts on %.4f%% of pixels\n", 100.0 * agreement);
  }
  const torch::Tensor x = use_memory_format(model, image, channels_last);
  const Timings t = time_runs(model, x, size, args.warmup, args.runs, &labels);

  const double med = median(t.whole_ms);
  const double lo = *std::min_element(t.whole_ms.begin(), t.whole_ms.end());
  const double hi = *std::max_element(t.whole_ms.begin(), t.whole_ms.end());
  const double body = median(t.body_ms);
  std::printf("model %s (dm %g, %d classes, %s), input %dx%d, output stride %d\n",
              args.tflite.c_str(), weights.depth_multiplier, weights.num_classes,
              weights.quantized ? "uint8 weights dequantized" : "float", size, size,
              args.output_stride);
  std::printf(
      "libtorch float32 (%s), %d thread(s), %d runs after %d warm-up: median %.2f ms, min "
      "%.2f, max %.2f; body (forward only) median %.2f ms\n",
      format_name(channels_last).c_str(), args.threads, args.runs, args.warmup, med, lo, hi, body);

  nlohmann::json out = {{"engine", "libtorch-float32"},
                        {"model", args.tflite},
                        {"threads", args.threads},
                        {"runs", args.runs},
                        {"warmup", args.warmup},
                        {"median_ms", med},
                        {"min_ms", lo},
                        {"max_ms", hi},
                        {"body_median_ms", body},
                        {"body_min_ms", *std::min_element(t.body_ms.begin(), t.body_ms.end())},
                        {"body_max_ms", *std::max_element(t.body_ms.begin(), t.body_ms.end())},
                        {"input_size", size},
                        {"output_stride", args.output_stride},
                        {"memory_format", format_name(channels_last)},
                        {"labels_shape", labels.sizes().vec()}};
  if (!trial.empty()) out["trial_median_ms"] = trial;
  std::printf("%s\n", out.dump().c_str());
  if (!args.json.empty()) QSEG_RETURN_IF_ERROR(write_json(args.json, out));
  if (!args.labels.empty()) {
    const torch::Tensor ids = labels.to(torch::kInt64).contiguous();
    std::ofstream f(args.labels, std::ios::binary);
    f.write(reinterpret_cast<const char*>(ids.data_ptr<int64_t>()),
            static_cast<std::streamsize>(ids.numel() * sizeof(int64_t)));
    if (!f) return Status::error("cannot write " + args.labels);
  }
  return Status::ok();
}

const char* const kUsage =
    "usage: qseg_torch_float_bench --tflite MODEL.tflite [--input-size 513] [--output-stride 16]\n"
    "         [--threads 1] [--runs 10] [--warmup 2] [--memory-format auto|nchw|channels-last]\n"
    "         [--json OUT] [--input RAW] [--labels OUT]\n"
    "libtorch float32 inference time of a DeepLab .tflite (uint8 or float) imported into\n"
    "src/train's model: image in, label map out (forward, bilinear resize, ArgMax).\n"
    "  --memory-format auto tries both layouts and keeps the faster.\n"
    "  --input: raw float32 1xSxSx3 image in [-1, 1] (the float .tflite's input; default random)\n"
    "  --labels: write the last run's class ids, raw int64 1xSxS (as the .tflite's ArgMax)\n";

// A whole decimal int, or an error naming the flag.
Status parse_int(const std::string& flag, const std::string& text, int* value) {
  size_t used = 0;
  long v = 0;
  try {
    v = std::stol(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || v < -1000000000L || v > 1000000000L)
    return Status::error(flag + " takes a whole number, got '" + text + "'");
  *value = static_cast<int>(v);
  return Status::ok();
}

// Fills args from argv; sets *help for --help.
Status parse_args(int argc, char** argv, BenchArgs* args, bool* help) {
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      *help = true;
      return Status::ok();
    }
    const std::vector<std::string> known = {
        "--tflite", "--input-size",    "--output-stride", "--threads", "--runs",
        "--warmup", "--memory-format", "--json",          "--input",   "--labels"};
    if (std::find(known.begin(), known.end(), flag) == known.end())
      return Status::error("unknown argument '" + flag + "' (see --help)");
    if (i + 1 >= argc) return Status::error(flag + " needs a value");
    const std::string value = argv[++i];
    if (flag == "--tflite") {
      args->tflite = value;
    } else if (flag == "--json") {
      args->json = value;
    } else if (flag == "--input") {
      args->input = value;
    } else if (flag == "--labels") {
      args->labels = value;
    } else if (flag == "--memory-format") {
      if (value != "auto" && value != "nchw" && value != "channels-last")
        return Status::error("--memory-format must be auto, nchw or channels-last, got '" + value +
                             "'");
      args->memory_format = value;
    } else {
      int* target = flag == "--input-size"      ? &args->input_size
                    : flag == "--output-stride" ? &args->output_stride
                    : flag == "--threads"       ? &args->threads
                    : flag == "--runs"          ? &args->runs
                                                : &args->warmup;
      QSEG_RETURN_IF_ERROR(parse_int(flag, value, target));
    }
  }
  if (args->tflite.empty()) return Status::error("give --tflite MODEL.tflite (see --help)");
  return Status::ok();
}

}  // namespace
}  // namespace qseg::bench

int main(int argc, char** argv) {
  using qseg::bench::kProgram;
  qseg::bench::BenchArgs args;
  bool help = false;
  qseg::Status status = qseg::bench::parse_args(argc, argv, &args, &help);
  if (status.is_ok() && help) {
    std::fputs(qseg::bench::kUsage, stdout);
    return 0;
  }
  if (status.is_ok()) {
    try {
      status = qseg::bench::run_bench(args);
    } catch (const c10::Error& e) {
      status = qseg::Status::error(std::string("libtorch failed: ") + e.what_without_backtrace());
    } catch (const std::exception& e) {
      status = qseg::Status::error(e.what());
    }
  }
  if (!status.is_ok()) {
    std::fflush(stdout);  // what was printed before the error comes before it
    std::string message = status.message();
    std::replace(message.begin(), message.end(), '\n', ' ');
    std::fprintf(stderr, "%s: error: %s\n", kProgram, message.c_str());
    return 1;
  }
  return 0;
}

// `qseg export` (checkpoint -> frozen float graph with its activation ranges, as a .tflite; a
// .tflite or that graph -> ONNX, src/onnx) and `qseg convert` (checkpoint, frozen graph or float
// .tflite -> deployable .tflite: uint8 like tflite_convert, int8 per channel, or float;
// post-training quantization by calibration).
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "common.h"
#include "convert/calibrate.h"
#include "convert/convert.h"
#include "model/checkpoint_file.h"
#include "model/imported_model.h"
#include "model/model_config.h"
#include "onnx/onnx_export.h"
#include "qseg/analysis.h"
#include "qseg/class_set.h"
#include "qseg/segmenter.h"
#include "qseg/tflite.h"

namespace qseg::cli {
namespace {

struct ConvertArgs {
  std::string checkpoint;
  std::string graph;   // a frozen graph written by qseg export
  std::string tflite;  // a float DeepLab .tflite (imported first)
  std::string output;
  std::string model;  // export --model: a .tflite to write as ONNX
  std::string onnx;   // export --onnx: the ONNX file to write
  OnnxExportOptions onnx_options;
  std::vector<int> input_shape;
  int output_stride = 0;
  std::string inference_type = "QUANTIZED_UINT8";
  std::string inference_input_type;
  float mean = 128.0f;
  float std = 128.0f;
  bool change_concat_input_ranges = false;
  std::string output_arrays = "ArgMax";
  bool per_channel_int8 = false;
  std::string calibrate;
  std::string calibration_split = "train.txt";
  int calibration_images = 100;
  std::string calibration_method = "minmax";
  double percentile = 99.99;
  int threads = 1;
  InputLimits limits;  // --graph, and the calibration photos and interpreter
  std::string labels;  // --labels: class names to embed (else the source's, if any)
};

// The class names a source carries: a checkpoint's class_names, a .tflite's qseg_labels.
using SourceClasses = std::optional<ClassSet>;

Result<SourceClasses> graph_classes(const Graph& graph, const std::string& name) {
  if (graph.class_labels.empty()) return SourceClasses();
  QSEG_ASSIGN_OR_RETURN(
      ClassSet classes,
      ClassSet::parse(graph.class_labels, name + ": " + std::string(kClassLabelsMetadataName)));
  return SourceClasses(std::move(classes));
}

// Embeds --labels, else the source's classes, in `model` (its qseg_labels metadata); either must
// name as many classes as the model has.
Status embed_class_labels(const std::string& labels_file, const SourceClasses& source,
                          const std::string& source_name, Graph* model) {
  const int count = model_class_count(*model);
  auto embed = [&](const ClassSet& classes, const std::string& name) {
    if (classes.size() != count) {
      return Status::error(name + ": " + std::to_string(classes.size()) +
                           " class names, but the model has " + std::to_string(count) + " classes");
    }
    model->class_labels = classes.to_text();
    return Status::ok();
  };
  if (!labels_file.empty()) {
    QSEG_ASSIGN_OR_RETURN(ClassSet classes, ClassSet::read_file(labels_file));
    return embed(classes, "--labels " + labels_file);
  }
  if (source) return embed(*source, source_name);
  return Status::ok();
}

// --input-shape 1,H,W,3 (TensorFlow's NHWC): any height and width DeepLab takes; unset, 0x0.
struct InputShape {
  int height = 0, width = 0;
};

Result<InputShape> parse_input_shape(const std::vector<int>& shape) {
  if (shape.empty()) return InputShape{};
  const bool sides_ok = shape.size() == 4 && shape[1] >= model::kMinInputSide &&
                        shape[1] <= model::kMaxInputSide && shape[2] >= model::kMinInputSide &&
                        shape[2] <= model::kMaxInputSide;
  if (!sides_ok || shape[0] != 1 || shape[3] != 3) {
    return Status::invalid_argument(
        fmt::format("--input-shape must be 1,H,W,3 (batch 1, RGB) with H and W in [{}, {}], got {}",
                    model::kMinInputSide, model::kMaxInputSide, fmt::join(shape, ",")));
  }
  return InputShape{shape[1], shape[2]};
}

// The frozen graph of a checkpoint, or of a DeepLab .tflite imported on the way (in memory).
// Sets *classes to the class names the source carries.
Result<convert::FrozenGraph> frozen_graph(const ConvertArgs& args, InputShape shape,
                                          SourceClasses* classes) {
  model::CheckpointFile checkpoint;
  std::string name = args.checkpoint;
  if (!args.tflite.empty()) {
    name = args.tflite;
    QSEG_ASSIGN_OR_RETURN(Graph graph, read_tflite_file(args.tflite, args.limits.model));
    QSEG_ASSIGN_OR_RETURN(*classes, graph_classes(graph, args.tflite));
    QSEG_ASSIGN_OR_RETURN(model::ImportedWeights weights,
                          model::extract_deeplab_weights(graph, args.tflite));
    // Imported at 513 (the published size) unless --input-shape says otherwise (below).
    QSEG_ASSIGN_OR_RETURN(
        checkpoint,
        model::imported_checkpoint(weights, args.output_stride > 0 ? args.output_stride : 16, 513));
  } else {
    QSEG_ASSIGN_OR_RETURN(checkpoint, model::read_checkpoint_file(args.checkpoint));
    QSEG_ASSIGN_OR_RETURN(*classes, model::checkpoint_classes(checkpoint, args.checkpoint));
  }
  convert::ExportOptions options;
  options.input_height = shape.height;
  options.input_width = shape.width;
  options.output_stride = args.output_stride;
  return convert::export_checkpoint(checkpoint, name, options);
}

// "wrote m.onnx: 1,234 bytes, ONNX opset 13, 230 nodes (Conv 55, DequantizeLinear 80, ...)".
void print_onnx_written(const std::string& path, const OnnxExport& out, const Graph& graph) {
  std::vector<std::pair<int, std::string>> counts;
  for (const auto& [type, n] : out.op_counts) counts.emplace_back(-n, type);
  std::sort(counts.begin(), counts.end());
  std::vector<std::string> parts;
  for (const auto& [n, type] : counts) parts.push_back(fmt::format("{} {}", type, -n));
  const Tensor& in = graph.tensors[graph.inputs[0]];
  const Tensor& out_tensor = graph.tensors[graph.outputs[0]];
  fmt::print(
      "wrote {}: {} bytes, ONNX opset {}, {} nodes ({}), {} initializers; {} [{}] -> {} [{}]\n",
      path, out.bytes.size(), kOnnxOpset, out.nodes, fmt::join(parts, ", "), out.initializers,
      data_type_name(in.type), fmt::join(in.shape, "x"), data_type_name(out_tensor.type),
      fmt::join(out_tensor.shape, "x"));
}

// export --model M.tflite --onnx OUT.onnx: the .tflite as it is, in ONNX.
Status run_export_model(const ConvertArgs& args) {
  if (!args.output.empty())
    return Status::invalid_argument(
        "--out writes a checkpoint's frozen graph; with --model give --onnx");
  if (!args.input_shape.empty() || args.output_stride > 0)
    return Status::invalid_argument("--input-shape and --output-stride apply to --checkpoint only");
  QSEG_RETURN_IF_ERROR(check_writable(args.onnx));
  QSEG_ASSIGN_OR_RETURN(Graph graph, read_tflite_file(args.model, args.limits.model));
  QSEG_ASSIGN_OR_RETURN(const OnnxExport out,
                        write_onnx_file(graph, args.model, args.onnx, args.onnx_options));
  print_onnx_written(args.onnx, out, graph);
  return Status::ok();
}

Status run_export(const ConvertArgs& args) {
  if (args.checkpoint.empty() == args.model.empty())
    return Status::invalid_argument("give --checkpoint CKPT or --model M.tflite (one of them)");
  if (!args.model.empty()) {
    if (args.onnx.empty()) return Status::invalid_argument("give --onnx OUT.onnx with --model");
    return run_export_model(args);
  }
  if (args.output.empty() && args.onnx.empty())
    return Status::invalid_argument("give --out FROZEN.tflite and/or --onnx OUT.onnx");
  QSEG_ASSIGN_OR_RETURN(const InputShape shape, parse_input_shape(args.input_shape));
  if (!args.output.empty()) QSEG_RETURN_IF_ERROR(check_writable(args.output));
  if (!args.onnx.empty()) QSEG_RETURN_IF_ERROR(check_writable(args.onnx));
  SourceClasses classes;
  QSEG_ASSIGN_OR_RETURN(convert::FrozenGraph frozen, frozen_graph(args, shape, &classes));
  QSEG_ASSIGN_OR_RETURN(Graph graph, convert::frozen_to_graph(frozen));
  // The frozen graph keeps the checkpoint's class names, so that convert --graph finds them.
  QSEG_RETURN_IF_ERROR(embed_class_labels("", classes, args.checkpoint, &graph));
  if (!args.output.empty()) {
    QSEG_RETURN_IF_ERROR(write_tflite_file(graph, args.output));
    int with_range = 0, activations = 0;
    for (size_t i = 0; i < frozen.graph.tensors.size(); ++i) {
      if (frozen.graph.tensors[i].is_constant) continue;
      ++activations;
      with_range += frozen.ranges[i].has_value();
    }
    fmt::print(
        "wrote {}: frozen float graph, {} ops, input {}x{}, batch norm folded, activations "
        "fused; {} of {} activation ranges{}\n",
        args.output, frozen.graph.ops.size(), frozen.input_height, frozen.input_width, with_range,
        activations,
        frozen.has_all_ranges() ? "" : " (convert needs them all: QAT or --calibrate)");
  }
  if (!args.onnx.empty()) {
    QSEG_ASSIGN_OR_RETURN(const OnnxExport out,
                          write_onnx_file(graph, args.checkpoint, args.onnx, args.onnx_options));
    print_onnx_written(args.onnx, out, graph);
  }
  return Status::ok();
}

Status run_convert(const ConvertArgs& args) {
  const int sources = !args.checkpoint.empty() + !args.graph.empty() + !args.tflite.empty();
  if (sources != 1) return Status::error("give exactly one of --checkpoint, --graph, --tflite");
  if (!args.labels.empty()) {
    QSEG_RETURN_IF_ERROR(ClassSet::read_file(args.labels).status());  // bad files fail first
  }
  QSEG_ASSIGN_OR_RETURN(const InputShape shape, parse_input_shape(args.input_shape));
  QSEG_RETURN_IF_ERROR(check_threads(args.threads));
  QSEG_RETURN_IF_ERROR(check_writable(args.output));  // before the calibration, not after it
  convert::ConvertOptions options;
  if (args.per_channel_int8) {
    options.inference_type = convert::InferenceType::kInt8PerChannel;
  } else if (args.inference_type == "FLOAT") {
    options.inference_type = convert::InferenceType::kFloat;
  } else {
    options.inference_type = convert::InferenceType::kUint8;
  }
  const std::string input_type =
      args.inference_input_type.empty()
          ? (args.inference_type == "FLOAT" ? std::string("FLOAT") : "QUANTIZED_UINT8")
          : args.inference_input_type;
  options.uint8_input = input_type == "QUANTIZED_UINT8";
  options.mean = args.mean;
  options.std = args.std;
  options.change_concat_input_ranges = args.change_concat_input_ranges;
  options.output = args.output_arrays == "ArgMax" ? convert::OutputArray::kArgMax
                                                  : convert::OutputArray::kLogits;

  convert::FrozenGraph frozen;
  SourceClasses classes;
  if (!args.graph.empty()) {
    QSEG_ASSIGN_OR_RETURN(Graph graph, read_tflite_file(args.graph, args.limits.model));
    QSEG_ASSIGN_OR_RETURN(classes, graph_classes(graph, args.graph));
    QSEG_ASSIGN_OR_RETURN(frozen, convert::graph_to_frozen(std::move(graph), args.graph));
    if (shape.height > 0 &&
        (shape.height != frozen.input_height || shape.width != frozen.input_width)) {
      return Status::error(fmt::format(
          "{} has input {}x{} (height x width); export the checkpoint again with --input-shape",
          args.graph, frozen.input_height, frozen.input_width));
    }
  } else {
    QSEG_ASSIGN_OR_RETURN(frozen, frozen_graph(args, shape, &classes));
  }
  if (!args.calibrate.empty()) {
    convert::CalibrationOptions c;
    c.data.root = args.calibrate;
    c.data.split = args.calibration_split;
    c.images = args.calibration_images;
    c.method = args.calibration_method == "percentile" ? convert::CalibrationMethod::kPercentile
                                                       : convert::CalibrationMethod::kMinMax;
    c.percentile = args.percentile;
    c.num_threads = args.threads;
    c.image_limits = args.limits.image;
    c.max_arena_bytes = args.limits.max_arena_bytes;
    const bool tty = ::isatty(STDERR_FILENO);
    c.progress = [tty](int done, int total) {
      if (tty) std::fprintf(stderr, "\rcalibrating: %d/%d photos\033[K", done, total);
    };
    Status calibrated = convert::calibrate(&frozen, c);
    if (tty) std::fprintf(stderr, "\r\033[K");
    QSEG_RETURN_IF_ERROR(calibrated);
  }
  QSEG_ASSIGN_OR_RETURN(Graph model, convert::convert_graph(frozen, options));
  const std::string source_name = !args.checkpoint.empty() ? args.checkpoint
                                  : !args.graph.empty()    ? args.graph
                                                           : args.tflite;
  QSEG_RETURN_IF_ERROR(embed_class_labels(args.labels, classes, source_name, &model));
  QSEG_RETURN_IF_ERROR(write_tflite_file(model, args.output));
  std::error_code ec;
  const auto bytes = std::filesystem::file_size(args.output, ec);
  const int64_t macs = total_multiply_adds(model);
  fmt::print(
      "wrote {}: {} bytes, {} ops, {} {}x{} -> {}, {:.3f} G multiply-adds{}\n", args.output,
      ec ? 0 : bytes, model.ops.size(), data_type_name(model.tensors[model.inputs[0]].type),
      frozen.input_height, frozen.input_width, args.output_arrays, static_cast<double>(macs) / 1e9,
      args.calibrate.empty() ? ""
                             : fmt::format(" (ranges calibrated on {} photos, {})",
                                           args.calibration_images, args.calibration_method));
  return Status::ok();
}

void add_source_options(CLI::App* cmd, ConvertArgs* args) {
  cmd->add_option("--input-shape", args->input_shape,
                  "Input shape 1,H,W,3, any height and width (default: the model's)")
      ->delimiter(',');
  cmd->add_option("--output-stride", args->output_stride,
                  "Output stride 8, 16, 32 (default: the checkpoint's)");
}

}  // namespace

void add_export_command(CLI::App& app, Action& run) {
  auto args = std::make_shared<ConvertArgs>();
  CLI::App* cmd = app.add_subcommand(
      "export",
      "Freeze a checkpoint (float graph, batch norm folded, activation ranges kept), or write a "
      ".tflite model as ONNX (opset 13, 8-bit ops as QuantizeLinear/DequantizeLinear around float "
      "ops, for ONNX Runtime, TensorRT, OpenVINO)");
  cmd->add_option("--checkpoint", args->checkpoint, "Training checkpoint (qseg import/train)");
  cmd->add_option("--model", args->model,
                  "A .tflite model (uint8, int8 with per-channel weights, or float) to write as "
                  "ONNX with --onnx");
  cmd->add_option("--out", args->output,
                  "Frozen graph to write (.tflite, float, with ranges; with --checkpoint)");
  cmd->add_option("--onnx", args->onnx,
                  "ONNX model to write: --model's as it is (same input and output tensors, NHWC), "
                  "or the checkpoint's frozen float graph");
  cmd->add_flag("--onnx-uint8-weights", args->onnx_options.uint8_weights,
                "Keep uint8 weights as uint8 in the ONNX file (default: int8, zero point - 128, "
                "the same reals; ONNX Runtime runs uint8 x int8 faster, but on x86 CPUs without "
                "VNNI its uint8 x int8 kernels may saturate)");
  cmd->add_flag("--onnx-plain-qdq", args->onnx_options.plain_qdq,
                "Write QUANTIZE and 8-bit resizes as plain QuantizeLinear/DequantizeLinear, which "
                "round half to even (default: with TFLite's rounding, so that ONNX Runtime gives "
                "TFLite's labels; the final resize then costs a float Add)");
  add_source_options(cmd, args.get());
  add_model_limit_options(*cmd, args->limits.model, nullptr);
  cmd->callback([args, &run] { run = [args] { return run_export(*args); }; });
}

void add_convert_command(CLI::App& app, Action& run) {
  auto args = std::make_shared<ConvertArgs>();
  CLI::App* cmd = app.add_subcommand(
      "convert", "Convert a checkpoint or frozen graph to a TFLite model (uint8, int8 or float)");
  cmd->add_option("--checkpoint", args->checkpoint, "Training checkpoint (qseg import/train)");
  cmd->add_option("--graph", args->graph, "Frozen graph written by qseg export");
  cmd->add_option("--tflite", args->tflite,
                  "A float DeepLab .tflite (imported on the way; for post-training quantization)");
  cmd->add_option("--output", args->output, "The .tflite to write")->required();
  cmd->add_option("--labels", args->labels,
                  "Labels file (one class name per line, optional #RRGGBB) to embed in the model; "
                  "default: the names the checkpoint or source model carries");
  add_source_options(cmd, args.get());
  cmd->add_option("--inference-type", args->inference_type, "QUANTIZED_UINT8 or FLOAT")
      ->check(CLI::IsMember({"QUANTIZED_UINT8", "FLOAT"}))
      ->capture_default_str();
  cmd->add_option("--inference-input-type", args->inference_input_type,
                  "QUANTIZED_UINT8 or FLOAT (default: as --inference-type)")
      ->check(CLI::IsMember({"QUANTIZED_UINT8", "FLOAT"}));
  cmd->add_option("--mean", args->mean, "uint8 input: real = (q - mean) / std")
      ->capture_default_str();
  cmd->add_option("--std", args->std, "uint8 input: real = (q - mean) / std")
      ->capture_default_str();
  cmd->add_flag("--change-concat-input-ranges", args->change_concat_input_ranges,
                "Concat inputs share the concat's range (no QUANTIZE ops)");
  cmd->add_option("--output-arrays", args->output_arrays,
                  "ArgMax (labels, int64) or logits (scores at the input size)")
      ->check(CLI::IsMember({"ArgMax", "logits"}))
      ->capture_default_str();
  cmd->add_flag("--per-channel-int8", args->per_channel_int8,
                "TFLite's int8 scheme: int8 activations, per-channel symmetric int8 weights");
  cmd->add_option("--calibrate", args->calibrate,
                  "Post-training quantization: measure activation ranges on this dataset root");
  cmd->add_option("--calibration-split", args->calibration_split, "Split of --calibrate")
      ->capture_default_str();
  cmd->add_option("--calibration-images", args->calibration_images, "Photos to calibrate on")
      ->capture_default_str();
  add_limit_options(*cmd, args->limits, /*images=*/true);
  cmd->add_option("--calibration-method", args->calibration_method, "minmax or percentile")
      ->check(CLI::IsMember({"minmax", "percentile"}))
      ->capture_default_str();
  cmd->add_option("--percentile", args->percentile,
                  "With --calibration-method percentile: the upper percentile (lower: 100 - p)")
      ->capture_default_str();
  cmd->add_option("--threads", args->threads, "Threads for calibration")->capture_default_str();
  cmd->callback([args, &run] { run = [args] { return run_convert(*args); }; });
}

}  // namespace qseg::cli

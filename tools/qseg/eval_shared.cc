// Shared pieces of `qseg eval` and `qseg compare`: flags, progress, tables, outputs.
#include "eval_shared.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "common.h"
#include "eval/report.h"
#include "imgproc/image_io.h"
#include "model/checkpoint_file.h"
#include "training_tool.h"

namespace qseg::cli {

Result<std::shared_ptr<const LabelMap>> label_map_option(const std::string& spec) {
  if (spec.empty()) return std::shared_ptr<const LabelMap>();
  QSEG_ASSIGN_OR_RETURN(LabelMap map, LabelMap::parse(spec));
  return std::shared_ptr<const LabelMap>(std::make_shared<LabelMap>(std::move(map)));
}

void add_dataset_options(CLI::App* cmd, DatasetArgs* args) {
  cmd->add_option("--data", args->data,
                  "Dataset root (VOC: JPEGImages/, SegmentationClass/; see --dataset)")
      ->required();
  cmd->add_option("--split", args->split,
                  "VOC: split file, one photo name per line (a name like val.txt is also looked "
                  "for in ROOT/ImageSets/Segmentation/); Cityscapes: train, val or test; ADE20K: "
                  "training or validation")
      ->required();
  cmd->add_option("--dataset", args->dataset,
                  "Dataset layout: voc, cityscapes (labelIds -> 19 train ids) or ade20k (150 "
                  "classes, 0 ignored)")
      ->capture_default_str();
  cmd->add_option("--labels", args->labels,
                  "Labels file naming the model's classes (one name per line, optional #RRGGBB); "
                  "default: the model's own, ROOT/labels.txt, VOC's for 21 classes");
  cmd->add_option("--ignore-label", args->ignore_label, "Label value that is not scored (0..255)")
      ->capture_default_str();
  cmd->add_option("--label-map", args->label_map, kLabelMapHelp);
  cmd->add_option("--threads", args->threads,
                  "Worker threads (each runs its own copy of the model)")
      ->capture_default_str();
  cmd->add_option("--limit", args->limit, "Only the first K photos of the split (0: all)")
      ->capture_default_str();
  cmd->add_flag("--skip-bad", args->skip_bad,
                "Skip bad samples (missing or unreadable photo or label, size mismatch, bad label "
                "values) and "
                "count them, instead of stopping at the first");
  cmd->add_flag("--full-decode", args->full_decode,
                "Decode every photo whole (by default a large JPEG is decoded only as far as the "
                "model input needs, at 1/2, 1/4 or 1/8 of its sides, as qseg segment does)");
  cmd->add_option("--json", args->json, "Write every number as JSON here");
  cmd->add_option("--report", args->report, "Write a self-contained HTML report here");
  cmd->add_option("--precision", args->precision,
                  "How training checkpoints run (libtorch): auto (simulated quantization when the "
                  "checkpoint is quantized), float, simulated")
      ->check(CLI::IsMember({"auto", "float", "simulated"}))
      ->capture_default_str();
  cmd->add_option("--checkpoint-output", args->checkpoint_output,
                  "How training checkpoints finish: labels (ArgMax at the input size, then "
                  "nearest, as converted models) or scores (bilinear at each photo pixel, then "
                  "ArgMax, as float models with logits output)")
      ->check(CLI::IsMember({"labels", "scores"}))
      ->capture_default_str();
  cmd->add_option("--scales", args->scales,
                  "Float training checkpoints: evaluate at these input scales, comma-separated "
                  "(DeepLab's multi-scale evaluation, e.g. 0.5,0.75,1.0,1.25,1.5,1.75), averaging "
                  "the views' softmax (default: 1)")
      ->delimiter(',');
  cmd->add_flag("--flip", args->flip,
                "Float training checkpoints: also evaluate each scale flipped left-right, "
                "averaged in");
  add_requantization_option(*cmd, args->requantization);
  add_kernels_option(*cmd, args->kernels);
  add_limit_options(*cmd, args->limits, /*images=*/true);
}

Result<std::vector<Sample>> read_dataset(const DatasetArgs& args, DatasetDescription* description) {
  QSEG_RETURN_IF_ERROR(check_threads(args.threads));
  if (args.limit < 0)
    return Status::invalid_argument("--limit must be 0 (all) or positive, got " +
                                    std::to_string(args.limit));
  QSEG_ASSIGN_OR_RETURN(const DatasetKind kind, parse_dataset_kind(args.dataset));
  QSEG_ASSIGN_OR_RETURN(std::shared_ptr<const LabelMap> label_map,
                        label_map_option(args.label_map));
  const DatasetSource source{args.data, args.split, label_map, kind};
  QSEG_ASSIGN_OR_RETURN(std::vector<Sample> samples, read_samples(source));
  QSEG_ASSIGN_OR_RETURN(description->split, resolve_split_path(source));
  description->root = args.data;
  if (args.limit > 0 && static_cast<size_t>(args.limit) < samples.size())
    samples.resize(args.limit);
  return samples;
}

Status set_class_options(const DatasetArgs& args, EvalOptions* options) {
  if (args.ignore_label < 0 || args.ignore_label > 255) {
    return Status::invalid_argument("--ignore-label must be in 0..255, got " +
                                    std::to_string(args.ignore_label));
  }
  options->ignore_label = args.ignore_label;
  if (!args.labels.empty()) {
    QSEG_ASSIGN_OR_RETURN(options->labels, ClassSet::read_file(args.labels));
    options->labels_name = args.labels;
  }
  const std::filesystem::path dataset_labels = std::filesystem::path(args.data) / "labels.txt";
  std::error_code ec;
  if (args.label_map.empty() && std::filesystem::is_regular_file(dataset_labels, ec)) {
    QSEG_ASSIGN_OR_RETURN(options->dataset_labels, ClassSet::read_file(dataset_labels));
    options->dataset_labels_name = dataset_labels.string();
  }
  return Status::ok();
}

std::function<void()> attach_progress(const std::string& command, EvalOptions* options) {
  struct State {
    bool terminal = false;
    bool bar_open = false;  // a bar is drawn and its line not yet ended
    int last_tenth = 0;
  };
  auto state = std::make_shared<State>();
  state->terminal = isatty(STDERR_FILENO) != 0;
  options->on_progress = [command, state](const EvalProgress& p) {
    // Photos scored per second; "--" until one is (a first photo that fails is no rate).
    const int scored = p.done - p.bad;
    const std::string rate_text =
        scored > 0 && p.seconds > 0 ? fmt::format("{:.2f}", scored / p.seconds) : "--";
    const double rate = p.seconds > 0 ? scored / p.seconds : 0.0;
    const std::string bad = p.bad > 0 ? fmt::format(", {} bad", p.bad) : "";
    if (state->terminal) {
      constexpr int kWidth = 30;
      const int filled = p.total > 0 ? p.done * kWidth / p.total : kWidth;
      const double eta = rate > 0 ? (p.total - p.done) / rate : 0.0;
      const std::string eta_text = rate > 0 ? fmt::format("{:.0f} s", eta) : "--";
      fmt::print(stderr, "\r{} [{}{}] {}/{} photos, {} photos/s, ETA {}{}\033[K", command,
                 std::string(filled, '#'), std::string(kWidth - filled, '.'), p.done, p.total,
                 rate_text, eta_text, bad);
      state->bar_open = p.done < p.total;
      if (!state->bar_open) fmt::print(stderr, "\n");
      std::fflush(stderr);
      return;
    }
    const int tenth = p.total > 0 ? p.done * 10 / p.total : 10;
    if (tenth > state->last_tenth || p.done == p.total) {
      state->last_tenth = tenth;
      fmt::print(stderr, "{}: {}/{} photos ({}%), {} photos/s{}\n", command, p.done, p.total,
                 p.total > 0 ? p.done * 100 / p.total : 100, rate_text, bad);
    }
  };
  options->on_bad_sample = [state](const Sample& sample, const Status& status) {
    // On a terminal the line replaces the bar, which the next photo draws again below it.
    fmt::print(stderr, "{}qseg: skipping bad sample {}: {}\n", state->terminal ? "\r\033[K" : "",
               sample.name, status.message());
  };
  return [state] {
    if (state->bar_open) fmt::print(stderr, "\n");
    state->bar_open = false;
  };
}

std::string class_table(const std::vector<ConfusionMatrix>& columns, const ClassSet& classes,
                        const std::vector<std::string>& headers, bool with_difference) {
  // VOC's longest name fits the 13 columns the table always had.
  size_t width = 13;
  for (const std::string& name : classes.names()) width = std::max(width, name.size() + 1);
  std::string text = fmt::format("{:<{}}", "class", width);
  for (const auto& header : headers) text += fmt::format(" {:>9}", header);
  text += with_difference ? fmt::format(" {:>8}", "B-A")
                          : fmt::format(" {:>13} {:>13}", "label px", "predicted px");
  text += "\n";
  for (int c = 0; c < classes.size(); ++c) {
    text += fmt::format("{:<{}}", classes.name(c), width);
    for (const ConfusionMatrix& m : columns) {
      const auto iou = m.iou(c);
      text += iou ? fmt::format(" {:>9.2f}", 100.0 * *iou) : fmt::format(" {:>9}", "-");
    }
    if (with_difference) {
      const auto a = columns[0].iou(c), b = columns[1].iou(c);
      text += a && b ? fmt::format(" {:>+8.2f}", 100.0 * (*b - *a)) : fmt::format(" {:>8}", "-");
    } else {
      text +=
          fmt::format(" {:>13} {:>13}", columns[0].label_pixels(c), columns[0].predicted_pixels(c));
    }
    text += "\n";
  }
  return text;
}

Status write_outputs(const DatasetArgs& args, const nlohmann::json& json, const EvalResult& result,
                     const std::string& title, const DatasetDescription& description) {
  if (!args.json.empty()) {
    QSEG_RETURN_IF_ERROR(write_json_file(args.json, json));
    fmt::print("JSON: {}\n", args.json);
  }
  if (!args.report.empty()) {
    ReportOptions options;
    options.title = title;
    options.data = description;
    options.image_limits = args.limits.image;
    QSEG_RETURN_IF_ERROR(write_html_report(args.report, result, options));
    fmt::print("report: {}\n", args.report);
  }
  if (result.bad_count > 0) {
    return Status::incomplete(
        fmt::format("{} of {} photos were bad and skipped (--skip-bad); the numbers above are over "
                    "the other {}",
                    result.bad_count, result.bad_count + result.scored_count, result.scored_count));
  }
  return Status::ok();
}

Status check_output_paths(const DatasetArgs& args) {
  if (!args.json.empty()) QSEG_RETURN_IF_ERROR(check_writable(args.json));
  if (!args.report.empty()) QSEG_RETURN_IF_ERROR(check_writable(args.report));
  return Status::ok();
}

Result<ModelOpener> model_opener(const DatasetArgs& args) {
  const std::string precision = args.precision;
  const std::string output = args.checkpoint_output;
  if (precision != "auto" && precision != "float" && precision != "simulated") {
    return Status::invalid_argument("--precision must be auto, float or simulated, got '" +
                                    precision + "'");
  }
  if (output != "labels" && output != "scores")
    return Status::invalid_argument("--checkpoint-output must be labels or scores, got '" + output +
                                    "'");
  const InputLimits limits = args.limits;
  const Requantization requantization = args.requantization;
  const KernelIsa kernels = args.kernels;
  const CheckpointRunOptions checkpoint{precision, output, args.scales, args.flip};
  const bool multi_view =
      args.flip || args.scales.size() > 1 || (args.scales.size() == 1 && args.scales[0] != 1.0);
  return ModelOpener([checkpoint, multi_view, limits, requantization, kernels](
                         const std::filesystem::path& path) -> Result<std::unique_ptr<PhotoModel>> {
    // --labels is applied by the evaluator (to every model alike), not here.
    if (model::is_checkpoint_file(path)) return open_checkpoint_model(path, checkpoint);
    if (multi_view) {
      return Status::invalid_argument(
          path.string() +
          ": --scales and --flip are for float training checkpoints (a .tflite model has one "
          "input size, and DeepLab evaluates quantized models at one scale)");
    }
    SegmenterOptions options;
    options.requantization = requantization;
    options.kernel_isa = kernels;
    options.model_limits = limits.model;
    options.max_arena_bytes = limits.max_arena_bytes;
    return open_tflite_model(path, options);
  });
}

Status forward_checkpoints_to_training_tool(const std::vector<std::filesystem::path>& models) {
  if (is_training_tool()) return Status::ok();
  for (const std::filesystem::path& model : models) {
    if (model::is_checkpoint_file(model)) return run_training_tool();
  }
  return Status::ok();
}

}  // namespace qseg::cli

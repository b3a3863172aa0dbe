// What `qseg eval` and `qseg compare` share: dataset flags, the progress display, the per-class
// table, and writing the JSON and HTML outputs.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common.h"
#include "eval/evaluator.h"
#include "eval/label_map.h"
#include "eval/results_json.h"
#include "qseg/status.h"

namespace qseg::cli {

// --label-map SPEC (eval, compare, train): "15=1,255=255,*=0" or "@FILE"; null for an empty SPEC.
inline constexpr const char* kLabelMapHelp =
    "Map dataset label values to model classes as they are loaded: FROM=TO,... with FROM a "
    "value or * (every other value), e.g. 15=1,255=255,*=0; or @FILE with one FROM=TO per line";
Result<std::shared_ptr<const LabelMap>> label_map_option(const std::string& spec);

struct DatasetArgs {
  std::string data;             // dataset root
  std::string split;            // VOC: split file, or its name under ROOT/ImageSets/Segmentation
  std::string dataset = "voc";  // --dataset voc|cityscapes|ade20k
  std::string label_map;        // --label-map SPEC or @FILE
  std::string labels;           // --labels FILE: the models' class names
  int ignore_label = 255;       // --ignore-label
  int threads = 1;
  int limit = 0;  // 0: every photo of the split
  bool skip_bad = false;
  bool full_decode = false;  // --full-decode
  std::string json;
  std::string report;
  std::string precision = "auto";            // for training checkpoints: auto, float, simulated
  std::string checkpoint_output = "labels";  // for training checkpoints: labels, scores
  std::vector<double> scales;                // --scales: multi-scale evaluation (checkpoints)
  bool flip = false;                         // --flip: and left-right flipped (checkpoints)
  InputLimits limits;                        // for the models (.tflite) and the photos and labels
  Requantization requantization = Requantization::kXnnpack;  // for .tflite models
  KernelIsa kernels = KernelIsa::kAuto;                      // for .tflite models
};

// Adds --data, --split, --dataset, --label-map, --labels, --ignore-label, --threads, --limit,
// --skip-bad, --json, --report, --precision, --checkpoint-output, --scales, --flip,
// --requantization, --kernels and the limit flags (add_limit_options).
void add_dataset_options(CLI::App* cmd, DatasetArgs* args);

// Checks the flags and reads the split (first `limit` photos).
Result<std::vector<Sample>> read_dataset(const DatasetArgs& args, DatasetDescription* description);
// Sets the evaluator's class names and ignore label from the flags: --labels, the dataset root's
// labels.txt (without --label-map, whose values it would not name), --ignore-label.
Status set_class_options(const DatasetArgs& args, EvalOptions* options);

// The evaluator's opener for model paths: .tflite files, and qseg training checkpoints (run in
// libtorch: float, or with simulated quantization on the checkpoint's ranges; `precision` auto
// simulates when the checkpoint is quantized). Checkpoints are told by their first bytes
// (model::is_checkpoint_file). .tflite models are read within `args.limits` and run with its
// arithmetic and kernels.
Result<ModelOpener> model_opener(const DatasetArgs& args);
// How a training checkpoint runs: --precision, --checkpoint-output (both already checked),
// --scales and --flip.
struct CheckpointRunOptions {
  std::string precision = "auto";
  std::string output = "labels";
  std::vector<double> scales;  // empty: the one scale 1
  bool flip = false;
};
// The opener's checkpoint side: in qseg-train it runs the checkpoint in libtorch; qseg never gets
// there (see below) and says so.
Result<std::unique_ptr<PhotoModel>> open_checkpoint_model(const std::filesystem::path& path,
                                                          const CheckpointRunOptions& options);
// In qseg, when one of `models` is a training checkpoint: hands the command line to qseg-train
// (training_tool.h; returns only on failure). Otherwise, and in qseg-train, does nothing.
Status forward_checkpoints_to_training_tool(const std::vector<std::filesystem::path>& models);

// Sets on_progress and on_bad_sample: a progress bar on stderr when it is a terminal (redrawn
// with \r), otherwise a plain line about every 10%; one stderr line per skipped bad sample.
// Returns what to call when the run fails, so the error line does not land on the bar's line.
std::function<void()> attach_progress(const std::string& command, EvalOptions* options);

// "  background       91.23  1234567" lines for every class (one per row, the name column as
// wide as the longest name), with a header. `columns` holds the confusion matrices to show side
// by side (one per model).
std::string class_table(const std::vector<ConfusionMatrix>& columns, const ClassSet& classes,
                        const std::vector<std::string>& headers, bool with_difference);

// Whether --json and --report can be written (their folder exists and is writable): checked
// before the evaluation, not after it.
Status check_output_paths(const DatasetArgs& args);
// Writes the JSON (atomically) and the HTML report when their flags are set. Then, when bad
// photos were skipped (--skip-bad), an incomplete Status saying how many (exit status 3): the
// numbers are over the others.
Status write_outputs(const DatasetArgs& args, const nlohmann::json& json, const EvalResult& result,
                     const std::string& title, const DatasetDescription& description);

}  // namespace qseg::cli

// `qseg compare`: two models on the same photos: the mIoU of each, per-class differences, how
// often their pixels agree, and the photos where they disagree most ("what did 8 bits cost").
#include <fmt/format.h>

#include "common.h"
#include "eval_shared.h"

namespace qseg::cli {
namespace {

struct CompareArgs {
  std::vector<std::string> models;
  DatasetArgs dataset;
};

void print_models(const EvalResult& result) {
  for (size_t m = 0; m < result.models.size(); ++m) {
    const ModelInfo& info = result.models[m];
    const ConfusionMatrix& c = result.confusion[m];
    fmt::print(
        "{}: {} ({}x{} {}): mIoU {:.2f}% over {} classes, pixel accuracy {:.2f}%, {:.0f} ms per "
        "photo\n",
        static_cast<char>('A' + m), info.path.string(), info.input_width, info.input_height,
        info.input_type, 100.0 * c.mean_iou(), c.present_class_count(), 100.0 * c.pixel_accuracy(),
        result.mean_model_ms(m));
  }
}

Status run_compare(const CompareArgs& args) {
  if (args.models.size() != 2) {
    return Status::error("compare needs exactly two --model flags, got " +
                         std::to_string(args.models.size()));
  }
  QSEG_RETURN_IF_ERROR(
      forward_checkpoints_to_training_tool({args.models.begin(), args.models.end()}));
  QSEG_RETURN_IF_ERROR(check_output_paths(args.dataset));
  DatasetDescription description;
  QSEG_ASSIGN_OR_RETURN(std::vector<Sample> samples, read_dataset(args.dataset, &description));
  EvalOptions options;
  QSEG_ASSIGN_OR_RETURN(options.open_model, model_opener(args.dataset));
  options.num_threads = args.dataset.threads;
  options.skip_bad = args.dataset.skip_bad;
  options.full_decode = args.dataset.full_decode;
  options.image_limits = args.dataset.limits.image;
  options.keep_masks = !args.dataset.report.empty();
  QSEG_RETURN_IF_ERROR(set_class_options(args.dataset, &options));
  const auto end_progress = attach_progress("compare", &options);
  fmt::print("A {}\nB {}\ndata {} (split {}): {} photos, {}\n", args.models[0], args.models[1],
             description.root.string(), description.split.string(), samples.size(),
             threads_text(args.dataset.threads));
  std::fflush(stdout);
  const std::vector<std::filesystem::path> models(args.models.begin(), args.models.end());
  auto evaluated = evaluate(models, std::move(samples), options);
  end_progress();
  if (!evaluated.is_ok()) return evaluated.status();
  const EvalResult& result = evaluated.value();

  fmt::print("\n{}\n", class_table(result.confusion, result.classes, {"A IoU %", "B IoU %"}, true));
  print_models(result);
  const ConfusionMatrix& a = result.confusion[0];
  const ConfusionMatrix& b = result.confusion[1];
  fmt::print(
      "mIoU B - A      {:+.2f} points (mean over classes present in labels or predictions)\n",
      100.0 * (b.mean_iou() - a.mean_iou()));
  fmt::print("pixel agreement {:.2f}% of {} pixels (A and B predict the same class; all pixels)\n",
             100.0 * result.agreement(), result.compared_pixels);
  fmt::print("photos          {} scored, {} bad (skipped); {:.1f} s, {:.2f} photos/s, {}\n",
             result.scored_count, result.bad_count, result.seconds, result.photos_per_second(),
             threads_text(result.num_threads));
  const std::vector<int> disagreeing = most_disagreeing_photos(result, 5);
  if (!disagreeing.empty()) {
    fmt::print("\nphotos where A and B disagree most:\n");
    for (int i : disagreeing) {
      const PhotoResult& photo = result.photos[i];
      fmt::print("  {:<16} agreement {:6.2f}%  mIoU A {:6.2f}%  B {:6.2f}%\n", photo.name,
                 100.0 * photo.agreement(), 100.0 * photo.models[0].confusion.mean_iou(),
                 100.0 * photo.models[1].confusion.mean_iou());
    }
  }
  return write_outputs(
      args.dataset, compare_json(result, description), result,
      "qseg compare: A " + models[0].filename().string() + " vs B " + models[1].filename().string(),
      description);
}

}  // namespace

void add_compare_command(CLI::App& app, Action& run) {
  auto args = std::make_shared<CompareArgs>();
  CLI::App* cmd =
      app.add_subcommand("compare",
                         "Two models on the same photos: mIoU of each, per-class differences, "
                         "pixel agreement, the photos where they disagree most");
  cmd->add_option("--model", args->models,
                  "Model .tflite or training checkpoint; give it twice: --model A --model B")
      ->required();
  add_dataset_options(cmd, &args->dataset);
  cmd->callback([args, &run] { run = [args] { return run_compare(*args); }; });
}

}  // namespace qseg::cli

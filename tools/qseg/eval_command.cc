// `qseg eval`: one model over a VOC-layout split: per-class IoU, mIoU, pixel accuracy, speed.
#include <fmt/format.h>

#include "common.h"
#include "eval_shared.h"
#include "model/checkpoint_file.h"

namespace qseg::cli {
namespace {

struct EvalArgs {
  std::string model;
  std::string checkpoint;
  DatasetArgs dataset;
  std::string save_masks;
};

Status run_eval(const EvalArgs& args) {
  const std::filesystem::path model = !args.checkpoint.empty()
                                          ? std::filesystem::path(args.checkpoint)
                                      : args.model.empty() ? default_model()
                                                           : std::filesystem::path(args.model);
  QSEG_RETURN_IF_ERROR(forward_checkpoints_to_training_tool({model}));
  QSEG_RETURN_IF_ERROR(check_output_paths(args.dataset));
  DatasetDescription description;
  QSEG_ASSIGN_OR_RETURN(std::vector<Sample> samples, read_dataset(args.dataset, &description));
  if (!args.checkpoint.empty() && !model::is_checkpoint_file(model)) {
    return Status::error(
        model.string() +
        ": not a qseg training checkpoint (qseg import or qseg train writes them)");
  }
  EvalOptions options;
  QSEG_ASSIGN_OR_RETURN(options.open_model, model_opener(args.dataset));
  options.num_threads = args.dataset.threads;
  options.skip_bad = args.dataset.skip_bad;
  options.full_decode = args.dataset.full_decode;
  options.image_limits = args.dataset.limits.image;
  options.keep_masks = !args.dataset.report.empty();
  QSEG_RETURN_IF_ERROR(set_class_options(args.dataset, &options));
  if (!args.save_masks.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(args.save_masks, ec);
    if (ec || !std::filesystem::is_directory(args.save_masks)) {
      return Status::error("cannot create mask folder " + args.save_masks +
                           (ec ? ": " + ec.message() : ""));
    }
    options.save_masks_dirs = {args.save_masks};
  }
  const auto end_progress = attach_progress("eval", &options);
  fmt::print("model {}\ndata {} (split {}): {} photos, {}\n", model.string(),
             description.root.string(), description.split.string(), samples.size(),
             threads_text(args.dataset.threads));
  std::fflush(stdout);
  const std::filesystem::path models[] = {model};
  auto evaluated = evaluate(models, std::move(samples), options);
  end_progress();
  if (!evaluated.is_ok()) return evaluated.status();
  const EvalResult& result = evaluated.value();

  const ConfusionMatrix& confusion = result.confusion[0];
  const ModelInfo& info = result.models[0];
  fmt::print("input {}x{} {}\n\n", info.input_width, info.input_height, info.input_type);
  fmt::print("{}\n", class_table({confusion}, result.classes, {"IoU %"}, false));
  fmt::print(
      "mIoU            {:.2f}%  (mean over the {} classes present in labels or predictions, of "
      "{})\n",
      100.0 * confusion.mean_iou(), confusion.present_class_count(), result.classes.size());
  fmt::print("pixel accuracy  {:.2f}%  ({} of {} scored pixels; {} {} not scored)\n",
             100.0 * confusion.pixel_accuracy(), confusion.correct_pixels(),
             confusion.total_pixels(), result.ignore_label == 255 ? "void" : "ignore label",
             result.ignore_label);
  fmt::print("photos          {} scored, {} bad (skipped)\n", result.scored_count,
             result.bad_count);
  fmt::print(
      "speed           {:.2f} photos/s ({:.1f} s, {}; {:.0f} ms per photo in the model "
      "path)\n",
      result.photos_per_second(), result.seconds, threads_text(result.num_threads),
      result.mean_model_ms(0));
  return write_outputs(args.dataset, eval_json(result, description), result,
                       "qseg eval: " + model.filename().string(), description);
}

}  // namespace

void add_eval_command(CLI::App& app, Action& run) {
  auto args = std::make_shared<EvalArgs>();
  CLI::App* cmd = app.add_subcommand(
      "eval",
      "Score a model on a dataset (VOC, Cityscapes or ADE20K layout): per-class IoU, mIoU, pixel "
      "accuracy");
  auto* model = cmd->add_option(
      "--model", args->model,
      "Model .tflite or training checkpoint (default: the published dm0.5 uint8 DeepLab in the "
      "shared folder)");
  cmd->add_option("--checkpoint", args->checkpoint,
                  "A training checkpoint (qseg import / qseg train), run in libtorch; see "
                  "--precision")
      ->excludes(model);
  add_dataset_options(cmd, &args->dataset);
  cmd->add_option("--save-masks", args->save_masks,
                  "Also write each prediction as DIR/NAME.png (palette PNG in the classes' "
                  "colours)");
  cmd->callback([args, &run] { run = [args] { return run_eval(*args); }; });
}

}  // namespace qseg::cli

// `qseg train`: float or quantization-aware training of DeepLab (libtorch), from a checkpoint or
// from scratch, with checkpoints, a CSV log, a loss plot, exact resume and evaluation.
#include <fmt/format.h>

#include <cstdio>

#include "common.h"
#include "eval_shared.h"
#include "model/checkpoint_file.h"
#include "model/model_config.h"
#include "qseg/class_set.h"
#include "train/checkpoint_segmenter.h"
#include "train/trainer.h"
#include "training_tool.h"

namespace qseg::cli {
namespace {

struct TrainArgs {
  train::TrainOptions options;
  std::string config;
  std::vector<std::string> data;
  std::vector<std::string> splits;
  std::string label_map;        // --label-map SPEC or @FILE, for --data and --eval-data
  std::string dataset = "voc";  // --dataset: the layout of --data and --eval-data
  std::string labels_file;      // --labels FILE
  // The class names of --labels, checked against the model's class count (empty without it).
  // Parsed here for the trainer to write into its checkpoints (class_names, class_colors).
  ClassSet labels;
  int class_count = 21;  // the trained model's classes: the checkpoint's, else --num-classes
  float depth_multiplier = 0.5f;
  int num_classes = 0;
  bool reinitialize_logits = false;
  std::vector<int> aspp_rates;
  int decoder_output_stride = 0;
  std::string batch_norm = "train";
  std::string range_init = "calibrate";  // --range-init calibrate|tracked
  bool no_flip = false;
  bool quiet = false;
  bool eval_only = false;
  std::string eval_data;
  std::string eval_split;
  int eval_size = 0;
  int eval_limit = 0;
};

// The classes of the model that is trained or evaluated: its starting checkpoint's (the run's own
// checkpoint when resuming), else --num-classes; and --labels, which must name that many.
Status resolve_classes(TrainArgs* args) {
  const train::TrainOptions& o = args->options;
  std::filesystem::path checkpoint = o.init_checkpoint;
  std::error_code ec;
  if (o.resume && std::filesystem::is_regular_file(o.out_dir / "checkpoint.ckpt", ec))
    checkpoint = o.out_dir / "checkpoint.ckpt";
  args->class_count = args->num_classes > 0 ? args->num_classes : 21;
  if (!checkpoint.empty() && !o.from_scratch && args->num_classes == 0) {
    // A checkpoint that does not read is reported by the trainer, in its own words.
    auto file = model::read_checkpoint_file(checkpoint);
    if (file.is_ok()) {
      auto config = model::config_from_json(file->meta.value("model", nlohmann::json()));
      if (config.is_ok()) args->class_count = config->num_classes;
    }
  }
  if (args->labels_file.empty()) return Status::ok();
  QSEG_ASSIGN_OR_RETURN(args->labels, ClassSet::read_file(args->labels_file));
  if (args->labels.size() != args->class_count) {
    return Status::error("--labels " + args->labels_file + ": " +
                         std::to_string(args->labels.size()) + " class names, but the model has " +
                         std::to_string(args->class_count) + " classes");
  }
  return Status::ok();
}

Result<std::vector<train::DataSource>> sources(const TrainArgs& args,
                                               const std::vector<std::string>& roots,
                                               const std::vector<std::string>& splits) {
  QSEG_ASSIGN_OR_RETURN(std::shared_ptr<const LabelMap> label_map,
                        label_map_option(args.label_map));
  QSEG_ASSIGN_OR_RETURN(const DatasetKind kind, parse_dataset_kind(args.dataset));
  if (splits.size() != 1 && splits.size() != roots.size()) {
    return Status::error("give one --split for all --data roots or one per root (got " +
                         std::to_string(splits.size()) + " for " + std::to_string(roots.size()) +
                         ")");
  }
  std::vector<train::DataSource> out;
  for (size_t i = 0; i < roots.size(); ++i)
    out.push_back(
        {roots[i], splits[splits.size() == 1 ? 0 : i], label_map, kind, args.class_count});
  return out;
}

void print_scores(const std::string& what, const train::SegmentationScores& s) {
  fmt::print("  {:<34} mIoU {:6.2f}%  pixel accuracy {:6.2f}%  ({} photos)\n", what,
             100 * s.mean_iou, 100 * s.pixel_accuracy, s.photos);
  std::fflush(stdout);
}

// Scores a checkpoint in float and, when it is quantized, with simulated quantization.
Status evaluate(const TrainArgs& args, const std::vector<train::TrainingSample>& samples,
                const std::filesystem::path& checkpoint, const std::string& label, bool simulated) {
  train::CheckpointSegmenterOptions options;
  options.num_threads = args.options.num_threads;
  options.input_size = args.eval_size;
  auto progress = [&](int done, int total) {
    if (!args.quiet)
      std::fprintf(stderr, "\r  evaluating %s: %d/%d\033[K", label.c_str(), done, total);
  };
  options.precision = train::CheckpointPrecision::kFloat;
  QSEG_ASSIGN_OR_RETURN(train::SegmentationScores f,
                        train::evaluate_checkpoint(checkpoint, samples, options, progress,
                                                   args.options.image_limits));
  if (!args.quiet) std::fprintf(stderr, "\r\033[K");
  print_scores(label + ", float", f);
  if (simulated) {
    options.precision = train::CheckpointPrecision::kSimulated;
    QSEG_ASSIGN_OR_RETURN(train::SegmentationScores q,
                          train::evaluate_checkpoint(checkpoint, samples, options, progress,
                                                     args.options.image_limits));
    if (!args.quiet) std::fprintf(stderr, "\r\033[K");
    print_scores(label + ", simulated quantization", q);
  }
  return Status::ok();
}

// --eval-only: the --init checkpoint on --eval-data, in float and (when it is quantized: QAT or a
// uint8 import) with simulated quantization.
Status run_eval_only(const TrainArgs& args) {
  if (args.options.init_checkpoint.empty() || args.eval_data.empty()) {
    return Status::error("--eval-only needs --init CHECKPOINT and --eval-data ROOT");
  }
  QSEG_ASSIGN_OR_RETURN(model::CheckpointFile file,
                        model::read_checkpoint_file(args.options.init_checkpoint));
  QSEG_ASSIGN_OR_RETURN(std::vector<train::DataSource> eval_sources,
                        sources(args, {args.eval_data}, {args.eval_split}));
  QSEG_ASSIGN_OR_RETURN(std::vector<train::TrainingSample> samples,
                        train::read_training_samples(eval_sources));
  if (args.eval_limit > 0 && static_cast<int>(samples.size()) > args.eval_limit)
    samples.resize(args.eval_limit);
  fmt::print("evaluation of {} on {} ({} photos):\n", args.options.init_checkpoint.string(),
             args.eval_data, samples.size());
  return evaluate(args, samples, args.options.init_checkpoint, "checkpoint", file.quantized());
}

Status run_train(TrainArgs args) {
  train::TrainOptions& o = args.options;
  QSEG_RETURN_IF_ERROR(check_threads(o.num_threads));
  QSEG_RETURN_IF_ERROR(resolve_classes(&args));
  if (args.eval_only) return run_eval_only(args);
  QSEG_ASSIGN_OR_RETURN(o.data, sources(args, args.data, args.splits));
  o.scratch_config.depth_multiplier = args.depth_multiplier;
  o.scratch_config.num_classes = args.num_classes > 0 ? args.num_classes : 21;
  o.num_classes = o.from_scratch ? 0 : args.num_classes;
  o.reinitialize_logits = args.reinitialize_logits;
  o.class_names = args.labels.names();
  o.class_colors.clear();
  for (int c = 0; c < args.labels.size(); ++c) {
    const Rgb& rgb = args.labels.color(c);
    o.class_colors.push_back(fmt::format("#{:02X}{:02X}{:02X}", rgb[0], rgb[1], rgb[2]));
  }
  o.scratch_config.aspp_rates = args.aspp_rates;
  o.scratch_config.decoder_output_stride = args.decoder_output_stride;
  o.scratch_config.output_stride = o.output_stride > 0 ? o.output_stride : 16;
  o.scratch_config.input_height = o.scratch_config.input_width = o.augment.crop_size;
  o.train_batch_norm = args.batch_norm == "train";
  o.range_init =
      args.range_init == "tracked" ? train::RangeInit::kTracked : train::RangeInit::kCalibrate;
  o.augment.flip = !args.no_flip;
  o.progress = !args.quiet;
  QSEG_RETURN_IF_ERROR(train::validate(o));
  // In a distributed run, rank 0 alone reports and evaluates; the others print only errors.
  const bool leader = o.rank == 0;
  std::vector<train::TrainingSample> eval_samples;
  if (!args.eval_data.empty() && leader) {
    QSEG_ASSIGN_OR_RETURN(std::vector<train::DataSource> eval_sources,
                          sources(args, {args.eval_data}, {args.eval_split}));
    QSEG_ASSIGN_OR_RETURN(eval_samples, train::read_training_samples(eval_sources));
    if (args.eval_limit > 0 && static_cast<int>(eval_samples.size()) > args.eval_limit)
      eval_samples.resize(args.eval_limit);
  }
  if (!eval_samples.empty() && !o.resume && !o.init_checkpoint.empty()) {
    fmt::print("evaluation on {} ({} photos):\n", args.eval_data, eval_samples.size());
    QSEG_RETURN_IF_ERROR(
        evaluate(args, eval_samples, o.init_checkpoint, "initial (--init)", false));
  }
  const std::string batch = o.world_size == 1
                                ? std::to_string(o.batch_size)
                                : fmt::format("{} ({} replicas x {})", o.world_size * o.batch_size,
                                              o.world_size, o.batch_size);
  if (leader) {
    fmt::print("training: {} steps, batch {}, crop {}, base LR {}, {}, {} -> {}\n", o.steps, batch,
               o.augment.crop_size, o.base_learning_rate,
               o.quantize_delay_step < 0 ? std::string("float")
               : o.quantize_delay_step == 0
                   ? std::string("quantization-aware from the first step")
                   : fmt::format("quantization-aware from step {}", o.quantize_delay_step),
               threads_text(o.num_threads), o.out_dir.string());
    std::fflush(stdout);
  }
  QSEG_ASSIGN_OR_RETURN(train::TrainSummary summary, train::train(o));
  if (!leader) return Status::ok();
  fmt::print("{} steps {}..{}: final loss {:.4f} (mean of the last 20), {:.2f} images/s\n",
             summary.interrupted ? "interrupted after" : "done,", summary.first_step + 1,
             summary.last_step, summary.final_loss, summary.images_per_second);
  fmt::print("checkpoint {}\nlog {}\nplot {}\n", summary.checkpoint.string(),
             (o.out_dir / "train_log.csv").string(), (o.out_dir / "loss.svg").string());
  if (!eval_samples.empty() && !summary.interrupted && summary.last_step == o.steps) {
    fmt::print("evaluation on {} ({} photos):\n", args.eval_data, eval_samples.size());
    QSEG_RETURN_IF_ERROR(
        evaluate(args, eval_samples, summary.checkpoint, "trained", o.quantize_delay_step >= 0));
  }
  return Status::ok();
}

}  // namespace

void add_train_command(CLI::App& app, Action& run) {
  auto args = std::make_shared<TrainArgs>();
  train::TrainOptions& o = args->options;
  CLI::App* cmd = app.add_subcommand("train", std::string(kTrainDescription));
  cmd->add_option("--config", args->config,
                  "Read flags from a TOML file (\"steps = 2000\", flag names without --)");
  auto* init = cmd->add_option("--init", o.init_checkpoint,
                               "Start from this checkpoint (qseg import or train)");
  auto* scratch = cmd->add_flag("--from-scratch", o.from_scratch, "Start from random weights");
  init->excludes(scratch);
  cmd->add_option("--data", args->data, "Dataset root in the VOC layout (repeat for several)");
  cmd->add_option("--split", args->splits, "Split file (one for all roots, or one per root)");
  cmd->add_option("--label-map", args->label_map, kLabelMapHelp);
  cmd->add_option("--dataset", args->dataset,
                  "Layout of --data and --eval-data: voc, cityscapes or ade20k")
      ->capture_default_str();
  cmd->add_option("--labels", args->labels_file,
                  "Labels file naming the model's classes (one name per line, optional #RRGGBB); "
                  "checked against the model's class count");
  cmd->add_option("--steps", o.steps, "Training steps")->capture_default_str();
  cmd->add_option("--batch-size", o.batch_size, "Images per step")->capture_default_str();
  cmd->add_option("--crop-size", o.augment.crop_size, "Square crop size")->capture_default_str();
  cmd->add_option("--base-lr", o.base_learning_rate,
                  "Base learning rate (polynomial decay, power 0.9)")
      ->capture_default_str();
  cmd->add_option("--lr-power", o.learning_rate_power, "Power of the polynomial decay")
      ->capture_default_str();
  cmd->add_option("--momentum", o.momentum, "SGD momentum")->capture_default_str();
  cmd->add_option("--weight-decay", o.weight_decay, "L2 weight decay of conv weights")
      ->capture_default_str();
  cmd->add_option("--min-scale", o.augment.min_scale, "Smallest random scale")
      ->capture_default_str();
  cmd->add_option("--max-scale", o.augment.max_scale, "Largest random scale")
      ->capture_default_str();
  cmd->add_option("--scale-step", o.augment.scale_step, "Step between scales (0: continuous)")
      ->capture_default_str();
  cmd->add_flag("--no-flip", args->no_flip, "No random left-right flips");
  cmd->add_option("--batch-norm", args->batch_norm,
                  "Batch norm: train (batch statistics) or frozen (moving)")
      ->check(CLI::IsMember({"train", "frozen"}))
      ->capture_default_str();
  cmd->add_option("--batch-norm-decay", o.batch_norm_decay,
                  "Decay of the batch-norm moving averages")
      ->capture_default_str();
  cmd->add_option(
         "--quantize-delay-step", o.quantize_delay_step,
         "Quantization-aware training from this step (0: from the start; -1: float training)")
      ->capture_default_str();
  cmd->add_option("--freeze-batch-norm-step", o.freeze_batch_norm_step,
                  "Under quantization, moving batch-norm statistics from this step (-1: never)")
      ->capture_default_str();
  cmd->add_option("--ema-decay", o.ema_decay, "Decay of the activation-range moving averages")
      ->capture_default_str();
  cmd->add_option("--range-init", args->range_init,
                  "Activation ranges when quantization starts: calibrate (measured on "
                  "--range-calibration-images training photos as post-training quantization "
                  "does) or tracked (as they are: the checkpoint's, or the moving averages of the "
                  "batches so far)")
      ->check(CLI::IsMember({"calibrate", "tracked"}))
      ->capture_default_str();
  cmd->add_option("--range-calibration-images", o.range_calibration_images,
                  "Training photos --range-init calibrate measures (spread over the data)")
      ->capture_default_str();
  cmd->add_option("--depth-multiplier", args->depth_multiplier,
                  "From scratch: MobileNetV2 depth multiplier")
      ->capture_default_str();
  cmd->add_option("--num-classes", args->num_classes,
                  "Classes (default: the --init checkpoint's, from scratch 21); with --init, "
                  "another count trains a new logits layer, keeping every other layer");
  cmd->add_flag("--reinitialize-logits", args->reinitialize_logits,
                "With --init: a new logits layer even when the class count stays (another "
                "class set of the same size)");
  cmd->add_option("--output-stride", o.output_stride,
                  "Output stride 8, 16, 32 (default: the checkpoint's, or 16)");
  cmd->add_option("--aspp-rates", args->aspp_rates,
                  "From scratch: atrous rates of extra ASPP branches, e.g. 6,12,18")
      ->delimiter(',');
  cmd->add_option("--decoder-output-stride", args->decoder_output_stride,
                  "From scratch: DeepLabV3+ decoder at 4 or 8");
  cmd->add_option("--world-size", o.world_size,
                  "Data-parallel replicas in all (each runs this command with its --rank; "
                  "--batch-size is per replica)")
      ->capture_default_str();
  cmd->add_option("--rank", o.rank, "This replica's rank in [0, world size)")
      ->capture_default_str();
  cmd->add_option("--master", o.master, "HOST:PORT where rank 0 listens for the other replicas")
      ->capture_default_str();
  cmd->add_option("--timeout", o.timeout_seconds,
                  "Seconds a replica waits for the others before it stops with an error")
      ->capture_default_str();
  cmd->add_option("--interface", o.interface,
                  "Network interface of the replicas' transport (default: from --master)");
  cmd->add_option("--seed", o.seed,
                  "Seed of the data order, augmentation, dropout and initialization")
      ->capture_default_str();
  cmd->add_option("--threads", o.num_threads, "libtorch threads")->capture_default_str();
  cmd->add_option("--loader-threads", o.loader_threads, "Threads preparing batches")
      ->capture_default_str();
  add_image_limit_option(*cmd, o.image_limits);
  cmd->add_option("--out", o.out_dir, "Output folder (checkpoint.ckpt, train_log.csv, loss.svg)");
  cmd->add_option("--checkpoint-every", o.checkpoint_every, "Write a checkpoint every N steps")
      ->capture_default_str();
  cmd->add_flag("--resume", o.resume,
                "Continue from OUT/checkpoint.ckpt (weights, optimizer, step, seed, ranges)");
  cmd->add_option("--stop-at-step", o.stop_at_step,
                  "Stop after this step (with a checkpoint), as if interrupted");
  cmd->add_option("--eval-data", args->eval_data,
                  "Evaluate the initial and final model on this dataset root");
  cmd->add_option("--eval-split", args->eval_split, "Split of --eval-data")->capture_default_str();
  cmd->add_option("--eval-size", args->eval_size, "Evaluation input size (default: the model's)");
  cmd->add_option("--eval-limit", args->eval_limit, "Evaluate only the first N photos");
  cmd->add_flag("--quiet", args->quiet, "No progress line");
  cmd->add_flag(
      "--eval-only", args->eval_only,
      "Only evaluate --init on --eval-data (float, and simulated quantization if quantized)");
  args->eval_split = "val.txt";
  cmd->callback([args, cmd, &run] {
    run = [args, cmd] {
      QSEG_RETURN_IF_ERROR(apply_config_file(cmd, args->config));
      return run_train(*args);
    };
  });
}

}  // namespace qseg::cli

// The training loop: the replicas meet, the starting state is made or read, then the steps run.
// A step: batch, forward and loss, gradients summed across replicas, SGD, log, checkpoint. The
// state itself is in train_state.cc.
#include "train/trainer.h"

#include <fmt/format.h>
#include <torch/torch.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <deque>
#include <optional>

#include "train/model.h"
#include "train/model_names.h"
#include "train/replicas.h"
#include "train/support/calibrated_ranges.h"
#include "train/support/training_log.h"
#include "train/train_state.h"

namespace qseg::train {
namespace {

constexpr const char* kCheckpointName = "checkpoint.ckpt";

std::atomic<bool> g_stop_requested{false};
extern "C" void request_stop(int) { g_stop_requested = true; }

// SIGINT/SIGTERM finish the current step, write a checkpoint and return.
class StopSignals {
 public:
  StopSignals() {
    g_stop_requested = false;
    previous_int_ = std::signal(SIGINT, request_stop);
    previous_term_ = std::signal(SIGTERM, request_stop);
  }
  ~StopSignals() {
    std::signal(SIGINT, previous_int_);
    std::signal(SIGTERM, previous_term_);
  }

 private:
  void (*previous_int_)(int) = SIG_DFL;
  void (*previous_term_)(int) = SIG_DFL;
};

// While training, a signal that would kill the process without a word is ignored, so that the
// failed call returns an error instead:
// - SIGXFSZ: a file-size limit (ulimit -f, a quota-like cap) fails a write like a full disk does,
//   with an error naming the file, instead of killing the process halfway through a write;
// - SIGPIPE: a replica that died leaves a closed socket; sending to it must become "another
//   replica stopped", not a silent death of this replica too.
class IgnoredSignal {
 public:
  explicit IgnoredSignal(int signal) : signal_(signal) { previous_ = std::signal(signal, SIG_IGN); }
  ~IgnoredSignal() { std::signal(signal_, previous_); }
  IgnoredSignal(const IgnoredSignal&) = delete;
  IgnoredSignal& operator=(const IgnoredSignal&) = delete;

 private:
  int signal_;
  void (*previous_)(int) = SIG_DFL;
};

using Clock = std::chrono::steady_clock;

// What a run holds from its start to its last step.
struct Run {
  explicit Run(const TrainOptions& given) : options(given) {}
  TrainOptions options;
  bool leader = true;
  std::filesystem::path checkpoint_path;
  std::unique_ptr<Replicas> replicas;
  std::string where;  // "rank 1 of 2: " before every error of a distributed run
  State state;
  std::unique_ptr<BatchLoader> loader;
  std::optional<TrainingLog> log;
  std::vector<std::filesystem::path> photos;  // the training photos, in the data's order

  Status located(const Status& status) const { return Status::error(where + status.message()); }
};

// The replicas meet first, so that a failure of any of them (bad flags, a checkpoint rank 0
// cannot read) reaches all.
Status connect_replicas(Run& run) {
  if (run.options.world_size <= 1) return Status::ok();
  QSEG_ASSIGN_OR_RETURN(run.replicas, Replicas::connect(replica_options(run.options)));
  run.where = "rank " + std::to_string(run.options.rank) + " of " +
              std::to_string(run.options.world_size) + ": ";
  return Status::ok();
}

// Rank 0's starting state (its out_dir created first).
Result<State> leader_start(const Run& run) {
  std::error_code ec;
  std::filesystem::create_directories(run.options.out_dir, ec);
  if (ec) {
    return Status::error("cannot create " + run.options.out_dir.string() + ": " + ec.message());
  }
  return starting_state(run.options, run.checkpoint_path);
}

// With replicas, rank 0 sends its state (or, when it failed, an empty message) to the others,
// after every replica has checked it has rank 0's flags. Errors are already located.
Status share_start(Run& run, Result<State>& start) {
  try {
    if (Status same = check_same_flags(*run.replicas, run.options); !same.is_ok())
      return run.located(same);
    std::vector<uint8_t> bytes;
    if (run.leader && start.is_ok()) {
      Result<std::vector<uint8_t>> encoded = encode_checkpoint(
          state_checkpoint(start.value(), run.options, start.value().first_step), "state");
      if (!encoded.is_ok()) start = encoded.status();
      if (encoded.is_ok()) bytes = std::move(encoded.value());
    }
    bytes = run.replicas->broadcast_bytes(std::move(bytes));
    if (!run.leader) {
      if (bytes.empty())
        return run.located(Status::error("rank 0 could not start (its error says why)"));
      QSEG_ASSIGN_OR_RETURN(CheckpointFile file, decode_checkpoint(bytes, "rank 0's state"));
      start = state_from_checkpoint(file, "rank 0's state", run.options.output_stride);
    }
  } catch (const ReplicaError& e) {
    return run.located(Status::error(std::string("starting: ") + e.what()));
  }
  return Status::ok();
}

// Every replica's starting state: rank 0 reads or makes it, the others get it from rank 0.
Status start_state(Run& run) {
  Result<State> start = Status::error("no state");
  if (run.leader) start = leader_start(run);
  if (run.replicas) QSEG_RETURN_IF_ERROR(share_start(run, start));
  if (!start.is_ok()) return run.located(start.status());
  run.state = std::move(start.value());
  if (run.leader && !run.state.reinitialized.empty()) {
    // Transfer to a new class set: say which layers start anew and which come from --init.
    const DeepLabModel& model = *run.state.model;
    std::string fresh;
    for (const std::string& scope : run.state.reinitialized)
      fresh += (fresh.empty() ? "" : ", ") + scope;
    fmt::print(
        "transfer: re-initialized {} ({} classes, the checkpoint's had {}); the other {} layers "
        "and their ranges from {}\n",
        fresh, model.config().num_classes, run.state.origin.value("classes_before", 0),
        model.layers().size() - run.state.reinitialized.size(),
        run.options.init_checkpoint.string());
    std::fflush(stdout);
  }
  if (run.state.first_step >= run.options.steps) {
    return Status::error(
        run.checkpoint_path.string() + " is at step " + std::to_string(run.state.first_step) +
        ", there is nothing to resume for --steps " + std::to_string(run.options.steps));
  }
  return Status::ok();
}

// The batch loader over the training data, and (rank 0) the log from the starting step.
Status open_data_and_log(Run& run) {
  const TrainOptions& options = run.options;
  QSEG_ASSIGN_OR_RETURN(std::vector<TrainingSample> samples, read_training_samples(options.data));
  for (const TrainingSample& sample : samples) run.photos.push_back(sample.photo_path);
  LoaderOptions loader_options;
  loader_options.augment = options.augment;
  loader_options.batch_size = options.batch_size;
  loader_options.rank = options.rank;
  loader_options.world_size = options.world_size;
  loader_options.seed = run.state.seed;
  loader_options.num_threads = options.loader_threads;
  loader_options.image_limits = options.image_limits;
  QSEG_ASSIGN_OR_RETURN(run.loader, BatchLoader::create(std::move(samples), loader_options));
  if (run.leader) {
    QSEG_ASSIGN_OR_RETURN(
        run.log, TrainingLog::open(options.out_dir / "train_log.csv", run.state.first_step));
  }
  return Status::ok();
}

// How step `step`'s forward pass runs: training mode, dropout, batch norm, ranges and fake
// quantization as the flags say for that step.
ForwardOptions forward_options(const Run& run, const Batch& batch, int64_t step) {
  const TrainOptions& options = run.options;
  ForwardOptions forward;
  forward.training = true;
  forward.dropout_seed = mix_seed(run.state.seed, 0xd0d0);
  forward.first_example = batch.first_example;
  forward.batch_norm_training = options.train_batch_norm;
  forward.batch_norm_decay = options.batch_norm_decay;
  forward.replicas = run.replicas.get();
  const bool qat = options.quantize_delay_step >= 0;
  forward.quant.update_ranges = qat;
  forward.quant.quantize = qat && step >= options.quantize_delay_step;
  forward.quant.ema_decay = options.ema_decay;
  forward.quant.replicas = run.replicas.get();
  forward.freeze_batch_norm =
      options.freeze_batch_norm_step >= 0 && step >= options.freeze_batch_norm_step;
  return forward;
}

// Label values the model has no class for would index past the logits: one error, not a crash.
Status check_label_values(const Batch& batch, const DeepLabModel& model) {
  const int classes = model.config().num_classes;
  for (const uint8_t v : batch.labels) {
    if (v >= classes && v != kIgnoreLabel) {
      return Status::error(fmt::format(
          "the training labels hold the value {}, but the model has {} classes (0..{}, {} "
          "ignored): give --num-classes to train new logits, or map the labels to the model's "
          "classes",
          v, classes, classes - 1, kIgnoreLabel));
    }
  }
  return Status::ok();
}

// The batch's loss: the logits upsampled to the crop, softmax cross entropy summed over the valid
// pixels and divided by their number over the whole batch (every replica's part), so that the
// replicas' gradients add up to the gradient of the whole batch's loss.
torch::Tensor batch_loss(Run& run, Batch& batch, const ForwardOptions& forward) {
  namespace F = torch::nn::functional;
  const int size = run.options.augment.crop_size;
  const torch::Tensor images =
      torch::from_blob(batch.images.data(), {batch.batch_size, 3, size, size});
  const torch::Tensor labels =
      torch::from_blob(batch.labels.data(), {batch.batch_size, size, size}, torch::kUInt8)
          .to(torch::kLong);
  const torch::Tensor logits = F::interpolate(run.state.model->forward(images, forward),
                                              F::InterpolateFuncOptions()
                                                  .size(std::vector<int64_t>{size, size})
                                                  .mode(torch::kBilinear)
                                                  .align_corners(true));
  torch::Tensor valid = (labels != kIgnoreLabel).sum().to(torch::kFloat).reshape({1});
  if (run.replicas) run.replicas->sum(valid);
  return F::cross_entropy(
             logits, labels,
             F::CrossEntropyFuncOptions().ignore_index(kIgnoreLabel).reduction(torch::kSum)) /
         valid.clamp_min(1)[0];
}

// One step's gradients (summed over the replicas), its loss and whether any replica was asked to
// stop (so that all stop at the same step).
struct StepGradients {
  std::vector<torch::Tensor> grads;
  double loss = 0;
  bool stopping = false;
};

StepGradients summed_gradients(Run& run, const torch::Tensor& loss) {
  std::vector<NamedParameter>& params = run.state.optimizer.params;
  for (NamedParameter& p : params) p.tensor.mutable_grad() = torch::Tensor();
  loss.backward();
  StepGradients step;
  for (NamedParameter& p : params) {
    torch::Tensor grad = p.tensor.grad();
    step.grads.push_back(grad.defined() ? grad : torch::zeros_like(p.tensor));
  }
  step.stopping = g_stop_requested.load();
  if (!run.replicas) {
    step.loss = loss.item<double>();
    return step;
  }
  // One sum for all gradients, the loss and the stop flag.
  std::vector<torch::Tensor> parts;
  for (const torch::Tensor& g : step.grads) parts.push_back(g.reshape({-1}));
  parts.push_back(loss.detach().reshape({1}));
  parts.push_back(torch::full({1}, step.stopping ? 1.0f : 0.0f));
  torch::Tensor flat = torch::cat(parts);
  run.replicas->sum(flat);
  int64_t offset = 0;
  for (torch::Tensor& g : step.grads) {
    g = flat.narrow(0, offset, g.numel()).view_as(g);
    offset += g.numel();
  }
  step.loss = flat[offset].item<double>();
  step.stopping = flat[offset + 1].item<float>() > 0;
  return step;
}

// SGD with momentum and L2 weight decay (on the parameters that take it).
void sgd_update(Optimizer& optimizer, const std::vector<torch::Tensor>& grads,
                const TrainOptions& options, double learning_rate) {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < optimizer.params.size(); ++i) {
    NamedParameter& p = optimizer.params[i];
    torch::Tensor grad = grads[i];
    if (p.weight_decay && options.weight_decay > 0) grad = grad + options.weight_decay * p.tensor;
    optimizer.momentum[i].mul_(options.momentum).add_(grad);
    p.tensor.add_(optimizer.momentum[i], -learning_rate);
  }
}

// The log's rows and the progress line: the means over the last 20 steps of the time per step
// and of the loss.
class Progress {
 public:
  Progress(const TrainOptions& options, bool leader, int64_t last)
      : options_(options),
        last_(last),
        print_(options.progress && leader),
        tty_(print_ && ::isatty(STDERR_FILENO)),
        start_time_(Clock::now()),
        last_print_(start_time_) {}

  bool tty() const { return tty_; }

  // The record of step `step` (0-based), which took since `step_start`.
  StepRecord record(int64_t step, Clock::time_point step_start, double loss, double learning_rate,
                    bool quantized) {
    now_ = Clock::now();
    recent_seconds_.push_back(std::chrono::duration<double>(now_ - step_start).count());
    recent_losses_.push_back(loss);
    if (recent_seconds_.size() > 20) recent_seconds_.pop_front();
    if (recent_losses_.size() > 20) recent_losses_.pop_front();
    mean_seconds_ = 0;
    mean_loss_ = 0;
    for (double s : recent_seconds_) mean_seconds_ += s / recent_seconds_.size();
    for (double l : recent_losses_) mean_loss_ += l / recent_losses_.size();
    StepRecord record;
    record.step = step + 1;
    record.loss = loss;
    record.learning_rate = learning_rate;
    record.images_per_second = options_.batch_size * options_.world_size / mean_seconds_;
    record.seconds = std::chrono::duration<double>(now_ - start_time_).count();
    record.quantized = quantized;
    return record;
  }

  double mean_loss() const { return mean_loss_; }

  // On a terminal every step, else every 30 s and at the last step.
  void print(const StepRecord& record) {
    const int64_t step = record.step - 1;
    if (!print_ || !(tty_ || std::chrono::duration<double>(now_ - last_print_).count() >= 30 ||
                     step + 1 == last_)) {
      return;
    }
    const std::string line =
        progress_line(step + 1, options_.steps, mean_loss_, record.learning_rate,
                      record.images_per_second, mean_seconds_ * (options_.steps - step - 1));
    std::fprintf(stderr, tty_ ? "\r%s\033[K" : "%s\n", line.c_str());
    std::fflush(stderr);
    last_print_ = now_;
  }

 private:
  const TrainOptions& options_;
  int64_t last_;
  bool print_;
  bool tty_;
  Clock::time_point start_time_, last_print_, now_;
  std::deque<double> recent_seconds_, recent_losses_;
  double mean_seconds_ = 0, mean_loss_ = 0;
};

// Replicas that apply the same summed gradients hold the same weights: checked before rank 0
// writes them for everyone.
Status check_replicas_agree(const Run& run, int64_t step) {
  const uint64_t mine = weights_fingerprint(run.state.optimizer);
  torch::Tensor both =
      torch::tensor({static_cast<int64_t>(mine), static_cast<int64_t>(~mine)}, torch::kInt64);
  run.replicas->max(both);
  if (static_cast<uint64_t>(both[0].item<int64_t>()) != mine ||
      static_cast<uint64_t>(both[1].item<int64_t>()) != ~mine) {
    return run.located(Status::error("the replicas' weights differ after step " +
                                     std::to_string(step + 1) + " (a bug: please report it)"));
  }
  return Status::ok();
}

// After step `step` (0-based): the log synced, the plot and the checkpoint, when one is due.
Status write_checkpoint(Run& run, int64_t step, int64_t last, bool stopping) {
  if (!((step + 1) % run.options.checkpoint_every == 0 || step + 1 == last || stopping))
    return Status::ok();
  if (run.replicas) QSEG_RETURN_IF_ERROR(check_replicas_agree(run, step));
  if (!run.leader) return Status::ok();
  // The checkpoint comes last: once it holds step N, the log on disk has rows 1..N and the plot
  // shows them, whenever a kill or power cut strikes; a failure before it (a full disk) leaves the
  // previous checkpoint, from which --resume redoes this step.
  QSEG_RETURN_IF_ERROR(run.log->sync());
  QSEG_RETURN_IF_ERROR(write_loss_svg(run.options.out_dir / "loss.svg", run.log->records(),
                                      "qseg train: loss per step"));
  return write_checkpoint_file(run.checkpoint_path,
                               state_checkpoint(run.state, run.options, step + 1));
}

// One step (0-based `step`): batch, loss, gradients, update, log, checkpoint. Sets *stopping when
// a replica was asked to stop.
// The ranges quantization starts from (RangeInit::kCalibrate): the model as it is now, exported
// and calibrated on training photos. Every replica measures the same (same weights, photos and
// arithmetic), so they need not exchange them.
Status calibrate_ranges(Run& run, int64_t step) {
  const auto start = Clock::now();
  DeepLabModel& model = *run.state.model;
  CheckpointFile checkpoint;
  model.save(&checkpoint);
  RangeCalibrationOptions calibration;
  calibration.photos = spread_photos(run.photos, run.options.range_calibration_images);
  calibration.num_threads = run.options.num_threads;
  calibration.image_limits = run.options.image_limits;
  auto ranges =
      calibrated_ranges(checkpoint, "the model at step " + std::to_string(step), calibration);
  if (!ranges.is_ok()) {
    return run.located(
        Status::error("calibrating the activation ranges: " + ranges.status().message()));
  }
  for (const auto& [scope, r] : ranges.value()) {
    ActivationRange* range = model.find_range(scope);
    if (range == nullptr) range = &model.extra_ranges()[scope];
    // As the moving averages keep them: min <= 0 <= max.
    range->min = std::min(r.first, 0.0f);
    range->max = std::max(r.second, 0.0f);
    range->initialized = true;
  }
  if (run.leader) {
    std::fprintf(stderr,
                 "quantization starts at step %lld: %zu activation ranges calibrated on %zu "
                 "training photos (%.1f s)\n",
                 static_cast<long long>(step), ranges.value().size(), calibration.photos.size(),
                 std::chrono::duration<double>(Clock::now() - start).count());
  }
  return Status::ok();
}

Status train_step(Run& run, Progress& progress, TrainSummary& summary, int64_t step, int64_t last,
                  bool* stopping) {
  const TrainOptions& options = run.options;
  if (step == options.quantize_delay_step && options.range_init == RangeInit::kCalibrate)
    QSEG_RETURN_IF_ERROR(calibrate_ranges(run, step));
  const auto step_start = Clock::now();
  Result<Batch> loaded = run.loader->get(step);
  if (!loaded.is_ok()) return run.located(loaded.status());
  if (Status labels = check_label_values(loaded.value(), *run.state.model); !labels.is_ok())
    return run.located(labels);
  const ForwardOptions forward = forward_options(run, loaded.value(), step);
  const torch::Tensor loss = batch_loss(run, loaded.value(), forward);
  const StepGradients gradients = summed_gradients(run, loss);
  const double learning_rate = polynomial_learning_rate(options.base_learning_rate, step,
                                                        options.steps, options.learning_rate_power);
  sgd_update(run.state.optimizer, gradients.grads, options, learning_rate);
  if (!std::isfinite(gradients.loss)) {
    return run.located(Status::error("the loss became " + fmt::format("{}", gradients.loss) +
                                     " at step " + std::to_string(step + 1) +
                                     " (learning rate too high?)"));
  }
  const StepRecord record =
      progress.record(step, step_start, gradients.loss, learning_rate, forward.quant.quantize);
  if (run.log) QSEG_RETURN_IF_ERROR(run.log->append(record));
  summary.final_loss = progress.mean_loss();
  summary.images_per_second = record.images_per_second;
  progress.print(record);
  *stopping = gradients.stopping;
  return write_checkpoint(run, step, last, gradients.stopping);
}

// The steps from the starting state to the last (or a stop), turning a replica's or libtorch's
// failure into an error that says at which step.
Result<TrainSummary> train_steps(Run& run) {
  StopSignals signals;
  const TrainOptions& options = run.options;
  const int64_t last =
      options.stop_at_step >= 0 ? std::min(options.steps, options.stop_at_step) : options.steps;
  Progress progress(options, run.leader, last);
  TrainSummary summary;
  summary.first_step = run.state.first_step;
  if (run.leader) summary.checkpoint = run.checkpoint_path;
  int64_t step = run.state.first_step;
  try {
    for (; step < last; ++step) {
      bool stopping = false;
      QSEG_RETURN_IF_ERROR(train_step(run, progress, summary, step, last, &stopping));
      if (stopping) {
        summary.interrupted = true;
        ++step;
        break;
      }
    }
  } catch (const ReplicaError& e) {
    return run.located(Status::error("step " + std::to_string(step + 1) + ": " + e.what() +
                                     "; stopping (resume from the last checkpoint)"));
  } catch (const c10::Error& e) {
    return run.located(Status::error("libtorch failed at step " + std::to_string(step + 1) + ": " +
                                     e.what_without_backtrace()));
  }
  if (progress.tty()) std::fprintf(stderr, "\n");
  summary.last_step = step;
  return summary;
}

Result<TrainSummary> train_unguarded(const TrainOptions& given) {
  QSEG_RETURN_IF_ERROR(validate(given));
  Run run(given);
  IgnoredSignal file_size_limit(SIGXFSZ);
  IgnoredSignal closed_socket(SIGPIPE);
  torch::set_num_threads(run.options.num_threads);
  run.leader = run.options.rank == 0;
  run.checkpoint_path = run.options.out_dir / kCheckpointName;
  QSEG_RETURN_IF_ERROR(connect_replicas(run));
  QSEG_RETURN_IF_ERROR(start_state(run));
  QSEG_RETURN_IF_ERROR(open_data_and_log(run));
  return train_steps(run);
}

}  // namespace

Result<TrainSummary> train(const TrainOptions& options) {
  try {
    return train_unguarded(options);
  } catch (const c10::Error& e) {
    return Status::error(std::string("libtorch failed: ") + e.what_without_backtrace());
  } catch (const std::exception& e) {
    return Status::error(std::string("training failed: ") + e.what());
  }
}

}  // namespace qseg::train

// The training loop: model and optimizer state, batches, loss, updates, logs and checkpoints.
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
#include "train/support/checkpoint_file.h"
#include "train/support/training_log.h"

namespace qseg::train {
namespace {

constexpr const char* kCheckpointName = "checkpoint.ckpt";
constexpr const char* kFormat = "qseg-deeplab-checkpoint";

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

struct Optimizer {
  std::vector<NamedParameter> params;
  std::vector<torch::Tensor> momentum;  // one buffer per parameter
};

torch::Tensor from_vector(const CheckpointTensor& t) {
  return torch::from_blob(const_cast<float*>(t.data.data()), t.shape, torch::kFloat32).clone();
}

CheckpointTensor to_checkpoint_tensor(const std::string& name, const torch::Tensor& tensor) {
  const torch::Tensor c = tensor.detach().contiguous();
  CheckpointTensor t;
  t.name = name;
  t.shape = c.sizes().vec();
  t.data.assign(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
  return t;
}

nlohmann::json train_meta(const TrainOptions& o, int64_t step, uint64_t seed) {
  return {{"step", step},
          {"seed", seed},
          {"steps", o.steps},
          {"base_learning_rate", o.base_learning_rate},
          {"batch_size", o.batch_size},
          {"crop_size", o.augment.crop_size},
          {"weight_decay", o.weight_decay},
          {"train_batch_norm", o.train_batch_norm},
          {"batch_norm_decay", o.batch_norm_decay},
          {"quantize_delay_step", o.quantize_delay_step},
          {"freeze_batch_norm_step", o.freeze_batch_norm_step},
          {"ema_decay", o.ema_decay}};
}

Status save(const std::filesystem::path& path, const DeepLabModel& model,
            const Optimizer& optimizer, const TrainOptions& options, int64_t step, uint64_t seed,
            const nlohmann::json& origin) {
  CheckpointFile file;
  file.meta["format"] = kFormat;
  model.save(&file);
  file.meta["train"] = train_meta(options, step, seed);
  file.meta["quantized"] = options.quantize_delay_step >= 0 && step >= options.quantize_delay_step;
  file.meta["origin"] = origin;
  for (size_t i = 0; i < optimizer.params.size(); ++i) {
    file.tensors.push_back(
        to_checkpoint_tensor("momentum/" + optimizer.params[i].name, optimizer.momentum[i]));
  }
  return write_checkpoint_file(path, file);
}

// The model of a checkpoint, its output stride replaced when asked.
Result<DeepLabModel> load_model(CheckpointFile& file, const std::filesystem::path& path,
                                int output_stride) {
  if (output_stride > 0 && file.meta.contains("model"))
    file.meta["model"]["output_stride"] = output_stride;
  return DeepLabModel::load(file, path.string());
}

}  // namespace

double polynomial_learning_rate(double base, int64_t step, int64_t steps, double power) {
  if (steps <= 0) return 0.0;
  const double remaining =
      1.0 - static_cast<double>(std::min(step, steps)) / static_cast<double>(steps);
  return base * std::pow(remaining, power);
}

Status validate(const TrainOptions& o) {
  if (o.from_scratch == !o.init_checkpoint.empty() && !o.resume) {
    return Status::error("give exactly one of --init CHECKPOINT and --from-scratch");
  }
  if (o.from_scratch) QSEG_RETURN_IF_ERROR(validate(o.scratch_config));
  QSEG_RETURN_IF_ERROR(validate(o.augment));
  if (o.data.empty()) return Status::error("no training data: give --data ROOT");
  if (o.steps < 1 || o.steps > 100000000)
    return Status::error("--steps must be in [1, 1e8], got " + std::to_string(o.steps));
  if (o.batch_size < 1 || o.batch_size > 1024) {
    return Status::error("--batch-size must be in [1, 1024], got " + std::to_string(o.batch_size));
  }
  if (!(o.base_learning_rate > 0 && o.base_learning_rate < 10))
    return Status::error("--base-lr must be in (0, 10)");
  if (!(o.learning_rate_power >= 0)) return Status::error("the learning-rate power must be >= 0");
  if (!(o.momentum >= 0 && o.momentum < 1)) return Status::error("--momentum must be in [0, 1)");
  if (!(o.weight_decay >= 0 && o.weight_decay < 1))
    return Status::error("--weight-decay must be in [0, 1)");
  if (!(o.batch_norm_decay > 0 && o.batch_norm_decay < 1))
    return Status::error("--batch-norm-decay must be in (0, 1)");
  if (!(o.ema_decay > 0 && o.ema_decay < 1)) return Status::error("--ema-decay must be in (0, 1)");
  if (o.quantize_delay_step < -1)
    return Status::error("--quantize-delay-step must be >= 0 (or -1 for no quantization)");
  if (o.freeze_batch_norm_step < -1)
    return Status::error("--freeze-batch-norm-step must be >= 0 (or -1 for never)");
  if (o.output_stride != 0 && o.output_stride != 8 && o.output_stride != 16 &&
      o.output_stride != 32) {
    return Status::error("--output-stride must be 8, 16 or 32, got " +
                         std::to_string(o.output_stride));
  }
  if (o.num_threads < 1 || o.num_threads > 256)
    return Status::error("--threads must be in [1, 256]");
  if (o.loader_threads < 0 || o.loader_threads > 64)
    return Status::error("--loader-threads must be in [0, 64]");
  if (o.checkpoint_every < 1) return Status::error("--checkpoint-every must be >= 1");
  if (o.out_dir.empty()) return Status::error("give --out DIR");
  return Status::ok();
}

namespace {

Result<TrainSummary> train_unguarded(const TrainOptions& given) {
  QSEG_RETURN_IF_ERROR(validate(given));
  TrainOptions options = given;
  torch::set_num_threads(options.num_threads);
  std::error_code ec;
  std::filesystem::create_directories(options.out_dir, ec);
  if (ec) return Status::error("cannot create " + options.out_dir.string() + ": " + ec.message());
  const std::filesystem::path checkpoint_path = options.out_dir / kCheckpointName;

  // The model, the optimizer state and where to start.
  int64_t first_step = 0;
  uint64_t seed = options.seed;
  nlohmann::json origin;
  std::optional<DeepLabModel> model;
  CheckpointFile resumed;
  if (options.resume) {
    QSEG_ASSIGN_OR_RETURN(resumed, read_checkpoint_file(checkpoint_path));
    const auto& t = resumed.meta.value("train", nlohmann::json::object());
    if (!t.contains("step") || !t.contains("seed")) {
      return Status::error(checkpoint_path.string() +
                           ": not a training checkpoint (no step), cannot resume");
    }
    first_step = t["step"].get<int64_t>();
    seed = t["seed"].get<uint64_t>();
    // Other flags may change on resume (e.g. more --steps), but the run then differs from a
    // straight one: say so.
    const nlohmann::json now = train_meta(options, first_step, seed);
    for (const auto& [key, value] : t.items()) {
      if (now.contains(key) && now[key] != value) {
        std::fprintf(stderr, "qseg: warning: resuming with %s %s, the checkpoint's run had %s\n",
                     key.c_str(), now[key].dump().c_str(), value.dump().c_str());
      }
    }
    origin = resumed.meta.value("origin", nlohmann::json());
    QSEG_ASSIGN_OR_RETURN(model, load_model(resumed, checkpoint_path, options.output_stride));
  } else if (options.from_scratch) {
    QSEG_ASSIGN_OR_RETURN(model,
                          DeepLabModel::create(options.scratch_config, mix_seed(seed, 0x1a1)));
    origin = "scratch";
  } else {
    QSEG_ASSIGN_OR_RETURN(CheckpointFile init, read_checkpoint_file(options.init_checkpoint));
    origin = {{"init", options.init_checkpoint.string()},
              {"of", init.meta.value("origin", nlohmann::json())}};
    QSEG_ASSIGN_OR_RETURN(model, load_model(init, options.init_checkpoint, options.output_stride));
  }
  if (first_step >= options.steps) {
    return Status::error(checkpoint_path.string() + " is at step " + std::to_string(first_step) +
                         ", there is nothing to resume for --steps " +
                         std::to_string(options.steps));
  }
  Optimizer optimizer;
  optimizer.params = model->parameters();
  for (NamedParameter& p : optimizer.params) {
    p.tensor.set_requires_grad(true);
    torch::Tensor buffer = torch::zeros_like(p.tensor);
    if (options.resume) {
      const CheckpointTensor* saved = resumed.find("momentum/" + p.name);
      if (!saved || saved->shape != p.tensor.sizes().vec()) {
        return Status::error(checkpoint_path.string() + ": no momentum for " + p.name +
                             ", cannot resume exactly");
      }
      buffer = from_vector(*saved);
    }
    optimizer.momentum.push_back(buffer);
  }

  QSEG_ASSIGN_OR_RETURN(std::vector<TrainingSample> samples, read_training_samples(options.data));
  LoaderOptions loader_options;
  loader_options.augment = options.augment;
  loader_options.batch_size = options.batch_size;
  loader_options.seed = seed;
  loader_options.num_threads = options.loader_threads;
  QSEG_ASSIGN_OR_RETURN(auto loader, BatchLoader::create(std::move(samples), loader_options));
  QSEG_ASSIGN_OR_RETURN(TrainingLog log,
                        TrainingLog::open(options.out_dir / "train_log.csv", first_step));

  StopSignals signals;
  const bool tty = options.progress && ::isatty(STDERR_FILENO);
  const auto start = std::chrono::steady_clock::now();
  auto last_print = start;
  std::deque<double> recent_seconds, recent_losses;
  TrainSummary summary;
  summary.first_step = first_step;
  summary.checkpoint = checkpoint_path;
  const int64_t last =
      options.stop_at_step >= 0 ? std::min(options.steps, options.stop_at_step) : options.steps;
  int64_t step = first_step;
  const int size = options.augment.crop_size;
  try {
    for (; step < last; ++step) {
      const auto step_start = std::chrono::steady_clock::now();
      QSEG_ASSIGN_OR_RETURN(Batch batch, loader->get(step));
      torch::manual_seed(mix_seed(seed, 0xd0d0000ull + static_cast<uint64_t>(step)));  // dropout
      const torch::Tensor images =
          torch::from_blob(batch.images.data(), {batch.batch_size, 3, size, size});
      const torch::Tensor labels =
          torch::from_blob(batch.labels.data(), {batch.batch_size, size, size}, torch::kUInt8)
              .to(torch::kLong);

      ForwardOptions forward;
      forward.training = true;
      forward.batch_norm_training = options.train_batch_norm;
      forward.batch_norm_decay = options.batch_norm_decay;
      const bool qat = options.quantize_delay_step >= 0;
      forward.quant.update_ranges = qat;
      forward.quant.quantize = qat && step >= options.quantize_delay_step;
      forward.quant.ema_decay = options.ema_decay;
      forward.freeze_batch_norm =
          options.freeze_batch_norm_step >= 0 && step >= options.freeze_batch_norm_step;

      namespace F = torch::nn::functional;
      const torch::Tensor logits = F::interpolate(model->forward(images, forward),
                                                  F::InterpolateFuncOptions()
                                                      .size(std::vector<int64_t>{size, size})
                                                      .mode(torch::kBilinear)
                                                      .align_corners(true));
      const torch::Tensor valid = (labels != kIgnoreLabel).sum();
      const torch::Tensor loss =
          F::cross_entropy(
              logits, labels,
              F::CrossEntropyFuncOptions().ignore_index(kIgnoreLabel).reduction(torch::kSum)) /
          valid.clamp_min(1).to(torch::kFloat);
      for (NamedParameter& p : optimizer.params) p.tensor.mutable_grad() = torch::Tensor();
      loss.backward();
      const double learning_rate = polynomial_learning_rate(
          options.base_learning_rate, step, options.steps, options.learning_rate_power);
      {
        torch::NoGradGuard no_grad;
        for (size_t i = 0; i < optimizer.params.size(); ++i) {
          NamedParameter& p = optimizer.params[i];
          torch::Tensor grad = p.tensor.grad();
          if (!grad.defined()) grad = torch::zeros_like(p.tensor);
          if (p.weight_decay && options.weight_decay > 0)
            grad = grad + options.weight_decay * p.tensor;
          optimizer.momentum[i].mul_(options.momentum).add_(grad);
          p.tensor.add_(optimizer.momentum[i], -learning_rate);
        }
      }
      const double loss_value = loss.item<double>();
      if (!std::isfinite(loss_value)) {
        return Status::error("the loss became " + fmt::format("{}", loss_value) + " at step " +
                             std::to_string(step + 1) + " (learning rate too high?)");
      }

      const auto now = std::chrono::steady_clock::now();
      const double seconds = std::chrono::duration<double>(now - step_start).count();
      recent_seconds.push_back(seconds);
      recent_losses.push_back(loss_value);
      if (recent_seconds.size() > 20) recent_seconds.pop_front();
      if (recent_losses.size() > 20) recent_losses.pop_front();
      double mean_seconds = 0, mean_loss = 0;
      for (double s : recent_seconds) mean_seconds += s / recent_seconds.size();
      for (double l : recent_losses) mean_loss += l / recent_losses.size();
      StepRecord record;
      record.step = step + 1;
      record.loss = loss_value;
      record.learning_rate = learning_rate;
      record.images_per_second = batch.batch_size / mean_seconds;
      record.seconds = std::chrono::duration<double>(now - start).count();
      record.quantized = forward.quant.quantize;
      QSEG_RETURN_IF_ERROR(log.append(record));
      summary.final_loss = mean_loss;
      summary.images_per_second = record.images_per_second;
      if (options.progress &&
          (tty || std::chrono::duration<double>(now - last_print).count() >= 30 ||
           step + 1 == last)) {
        const std::string line =
            progress_line(step + 1, options.steps, mean_loss, learning_rate,
                          record.images_per_second, mean_seconds * (options.steps - step - 1));
        std::fprintf(stderr, tty ? "\r%s\033[K" : "%s\n", line.c_str());
        std::fflush(stderr);
        last_print = now;
      }
      const bool stopping = g_stop_requested.load();
      if ((step + 1) % options.checkpoint_every == 0 || step + 1 == last || stopping) {
        QSEG_RETURN_IF_ERROR(
            save(checkpoint_path, *model, optimizer, options, step + 1, seed, origin));
        QSEG_RETURN_IF_ERROR(write_loss_svg(options.out_dir / "loss.svg", log.records(),
                                            "qseg train: loss per step"));
      }
      if (stopping) {
        summary.interrupted = true;
        ++step;
        break;
      }
    }
  } catch (const c10::Error& e) {
    return Status::error("libtorch failed at step " + std::to_string(step + 1) + ": " +
                         e.what_without_backtrace());
  }
  if (tty) std::fprintf(stderr, "\n");
  summary.last_step = step;
  return summary;
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

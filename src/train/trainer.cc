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
#include "train/replicas.h"
#include "train/model_names.h"
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
          {"world_size", o.world_size},
          {"crop_size", o.augment.crop_size},
          {"weight_decay", o.weight_decay},
          {"train_batch_norm", o.train_batch_norm},
          {"batch_norm_decay", o.batch_norm_decay},
          {"quantize_delay_step", o.quantize_delay_step},
          {"freeze_batch_norm_step", o.freeze_batch_norm_step},
          {"ema_decay", o.ema_decay}};
}

// Where training stands: the model, the optimizer's momentum, the next step and the run's seed.
struct State {
  std::optional<DeepLabModel> model;
  Optimizer optimizer;
  int64_t first_step = 0;
  uint64_t seed = 0;
  nlohmann::json origin;
};

// The checkpoint of a state at `step` (what checkpoint.ckpt holds, and what rank 0 sends).
CheckpointFile state_checkpoint(const State& state, const TrainOptions& options, int64_t step) {
  CheckpointFile file;
  file.meta["format"] = kFormat;
  state.model->save(&file);
  file.meta["train"] = train_meta(options, step, state.seed);
  file.meta["quantized"] = options.quantize_delay_step >= 0 && step >= options.quantize_delay_step;
  file.meta["origin"] = state.origin;
  for (size_t i = 0; i < state.optimizer.params.size(); ++i) {
    file.tensors.push_back(to_checkpoint_tensor("momentum/" + state.optimizer.params[i].name,
                                                state.optimizer.momentum[i]));
  }
  return file;
}

// The model of a checkpoint, its output stride replaced when asked.
Result<DeepLabModel> load_model(CheckpointFile& file, const std::string& name, int output_stride) {
  if (output_stride > 0 && file.meta.contains("model"))
    file.meta["model"]["output_stride"] = output_stride;
  return DeepLabModel::load(file, name);
}

// The optimizer of a model: its parameters, and momentum buffers from `saved` (a training
// checkpoint being resumed) or zero.
Result<Optimizer> make_optimizer(DeepLabModel& model, const CheckpointFile* saved,
                                 const std::string& name) {
  Optimizer optimizer;
  optimizer.params = model.parameters();
  for (NamedParameter& p : optimizer.params) {
    p.tensor.set_requires_grad(true);
    torch::Tensor buffer = torch::zeros_like(p.tensor);
    if (saved) {
      const CheckpointTensor* momentum = saved->find("momentum/" + p.name);
      if (!momentum || momentum->shape != p.tensor.sizes().vec()) {
        return Status::error(name + ": no momentum for " + p.name + ", cannot resume exactly");
      }
      buffer = from_vector(*momentum);
    }
    optimizer.momentum.push_back(buffer);
  }
  return optimizer;
}

// The state a training checkpoint holds (resuming, or a replica receiving rank 0's state).
Result<State> state_from_checkpoint(CheckpointFile& file, const std::string& name,
                                    int output_stride) {
  const auto& t = file.meta.value("train", nlohmann::json::object());
  if (!t.contains("step") || !t.contains("seed")) {
    return Status::error(name + ": not a training checkpoint (no step), cannot resume");
  }
  State state;
  state.first_step = t["step"].get<int64_t>();
  state.seed = t["seed"].get<uint64_t>();
  state.origin = file.meta.value("origin", nlohmann::json());
  QSEG_ASSIGN_OR_RETURN(state.model, load_model(file, name, output_stride));
  QSEG_ASSIGN_OR_RETURN(state.optimizer, make_optimizer(*state.model, &file, name));
  return state;
}

// Where this run starts: out_dir's checkpoint (resume), random weights or the --init checkpoint.
Result<State> starting_state(const TrainOptions& options,
                             const std::filesystem::path& checkpoint_path) {
  if (options.resume) {
    QSEG_ASSIGN_OR_RETURN(CheckpointFile resumed, read_checkpoint_file(checkpoint_path));
    QSEG_ASSIGN_OR_RETURN(State state, state_from_checkpoint(resumed, checkpoint_path.string(),
                                                             options.output_stride));
    // Other flags may change on resume (e.g. more --steps), but the run then differs from a
    // straight one: say so. The global batch may be split differently (another world size).
    const auto& t = resumed.meta["train"];
    const nlohmann::json now = train_meta(options, state.first_step, state.seed);
    for (const auto& [key, value] : t.items()) {
      if (key == "batch_size" || key == "world_size") continue;
      if (now.contains(key) && now[key] != value) {
        std::fprintf(stderr, "qseg: warning: resuming with %s %s, the checkpoint's run had %s\n",
                     key.c_str(), now[key].dump().c_str(), value.dump().c_str());
      }
    }
    const int64_t was = t.value("batch_size", int64_t{0}) * t.value("world_size", int64_t{1});
    const int64_t global = int64_t{options.batch_size} * options.world_size;
    if (was != global) {
      std::fprintf(stderr,
                   "qseg: warning: resuming with %ld examples per step (%d x %d), the "
                   "checkpoint's run had %ld\n",
                   static_cast<long>(global), options.world_size, options.batch_size,
                   static_cast<long>(was));
    }
    return state;
  }
  State state;
  state.seed = options.seed;
  if (options.from_scratch) {
    QSEG_ASSIGN_OR_RETURN(
        state.model, DeepLabModel::create(options.scratch_config, mix_seed(state.seed, 0x1a1)));
    state.origin = "scratch";
  } else {
    QSEG_ASSIGN_OR_RETURN(CheckpointFile init, read_checkpoint_file(options.init_checkpoint));
    state.origin = {{"init", options.init_checkpoint.string()},
                    {"of", init.meta.value("origin", nlohmann::json())}};
    QSEG_ASSIGN_OR_RETURN(
        state.model, load_model(init, options.init_checkpoint.string(), options.output_stride));
  }
  QSEG_ASSIGN_OR_RETURN(state.optimizer, make_optimizer(*state.model, nullptr, ""));
  return state;
}

// The flags every replica must share, as rank 0 has them.
nlohmann::json shared_flags(const TrainOptions& o) {
  nlohmann::json data = nlohmann::json::array();
  for (const DataSource& d : o.data) data.push_back({d.root.string(), d.split.string()});
  nlohmann::json flags = train_meta(o, 0, o.seed);
  flags.erase("step");
  flags["learning_rate_power"] = o.learning_rate_power;
  flags["momentum"] = o.momentum;
  flags["scale"] = {o.augment.min_scale, o.augment.max_scale, o.augment.scale_step};
  flags["flip"] = o.augment.flip;
  flags["output_stride"] = o.output_stride;
  flags["resume"] = o.resume;
  flags["stop_at_step"] = o.stop_at_step;
  flags["checkpoint_every"] = o.checkpoint_every;
  flags["data"] = data;
  return flags;
}

// Every replica runs with rank 0's flags, or every replica stops with an error.
Status check_same_flags(const Replicas& replicas, const TrainOptions& options) {
  const std::string mine = shared_flags(options).dump();
  const std::vector<uint8_t> sent = replicas.broadcast_bytes({mine.begin(), mine.end()});
  std::string problem;
  if (replicas.rank() != 0) {
    const nlohmann::json theirs = nlohmann::json::parse(sent.begin(), sent.end(), nullptr, false);
    const nlohmann::json ours = shared_flags(options);
    for (const auto& [key, value] : ours.items()) {
      if (!theirs.contains(key) || theirs[key] != value) {
        problem = key + " is " + value.dump() + " here but " +
                  (theirs.contains(key) ? theirs[key].dump() : std::string("unset")) + " on rank 0";
        break;
      }
    }
  }
  torch::Tensor failed = torch::full({1}, problem.empty() ? 0.0f : 1.0f);
  replicas.sum(failed);
  if (!problem.empty()) return Status::error(problem + ": start every replica with the same flags");
  if (failed.item<float>() > 0) {
    return Status::error(
        "other replicas were started with different flags (their errors say "
        "which): start every replica with the same flags");
  }
  return Status::ok();
}

// A fingerprint of the weights: replicas that apply the same summed gradients stay identical.
uint64_t weights_fingerprint(const Optimizer& optimizer) {
  uint64_t hash = kFnv1aStart;
  for (const NamedParameter& p : optimizer.params) {
    const torch::Tensor c = p.tensor.detach().contiguous();
    hash = fnv1a(reinterpret_cast<const uint8_t*>(c.data_ptr<float>()),
                 static_cast<size_t>(c.numel()) * sizeof(float), hash);
  }
  return hash;
}

}  // namespace

namespace {

ReplicaOptions replica_options(const TrainOptions& o) {
  ReplicaOptions r;
  r.world_size = o.world_size;
  r.rank = o.rank;
  r.master = o.master;
  r.timeout = std::chrono::milliseconds(static_cast<int64_t>(o.timeout_seconds * 1000.0 + 0.5));
  r.interface = o.interface;
  return r;
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
  if (!(o.timeout_seconds >= 0.1 && o.timeout_seconds <= 86400))
    return Status::error("--timeout must be in [0.1, 86400] seconds");
  return validate(replica_options(o));
}

namespace {

Result<TrainSummary> train_unguarded(const TrainOptions& given) {
  QSEG_RETURN_IF_ERROR(validate(given));
  TrainOptions options = given;
  IgnoredSignal file_size_limit(SIGXFSZ);
  IgnoredSignal closed_socket(SIGPIPE);
  torch::set_num_threads(options.num_threads);
  const bool leader = options.rank == 0;
  const std::filesystem::path checkpoint_path = options.out_dir / kCheckpointName;

  // The replicas meet first, so that a failure of any of them (bad flags, a checkpoint rank 0
  // cannot read) reaches all.
  std::unique_ptr<Replicas> replicas;
  std::string where;  // "rank 1 of 2: " before every error of a distributed run
  if (options.world_size > 1) {
    QSEG_ASSIGN_OR_RETURN(replicas, Replicas::connect(replica_options(options)));
    where =
        "rank " + std::to_string(options.rank) + " of " + std::to_string(options.world_size) + ": ";
  }
  auto located = [&](const Status& status) { return Status::error(where + status.message()); };

  // Rank 0 reads or makes the starting state; the others get it from rank 0 (an empty message
  // says rank 0 failed).
  Result<State> start = Status::error("no state");
  if (leader) {
    std::error_code ec;
    std::filesystem::create_directories(options.out_dir, ec);
    start = ec ? Result<State>(Status::error("cannot create " + options.out_dir.string() + ": " +
                                             ec.message()))
               : starting_state(options, checkpoint_path);
  }
  if (replicas) {
    try {
      if (Status same = check_same_flags(*replicas, options); !same.is_ok()) return located(same);
      std::vector<uint8_t> bytes;
      if (leader && start.is_ok()) {
        Result<std::vector<uint8_t>> encoded = encode_checkpoint(
            state_checkpoint(start.value(), options, start.value().first_step), "state");
        if (!encoded.is_ok()) start = encoded.status();
        if (encoded.is_ok()) bytes = std::move(encoded.value());
      }
      bytes = replicas->broadcast_bytes(std::move(bytes));
      if (!leader) {
        if (bytes.empty())
          return located(Status::error("rank 0 could not start (its error says why)"));
        QSEG_ASSIGN_OR_RETURN(CheckpointFile file, decode_checkpoint(bytes, "rank 0's state"));
        start = state_from_checkpoint(file, "rank 0's state", options.output_stride);
      }
    } catch (const ReplicaError& e) {
      return located(Status::error(std::string("starting: ") + e.what()));
    }
  }
  if (!start.is_ok()) return located(start.status());
  State state = std::move(start.value());
  const int64_t first_step = state.first_step;
  const uint64_t seed = state.seed;
  DeepLabModel& model = *state.model;
  Optimizer& optimizer = state.optimizer;
  if (first_step >= options.steps) {
    return Status::error(checkpoint_path.string() + " is at step " + std::to_string(first_step) +
                         ", there is nothing to resume for --steps " +
                         std::to_string(options.steps));
  }

  QSEG_ASSIGN_OR_RETURN(std::vector<TrainingSample> samples, read_training_samples(options.data));
  LoaderOptions loader_options;
  loader_options.augment = options.augment;
  loader_options.batch_size = options.batch_size;
  loader_options.rank = options.rank;
  loader_options.world_size = options.world_size;
  loader_options.seed = seed;
  loader_options.num_threads = options.loader_threads;
  loader_options.image_limits = options.image_limits;
  QSEG_ASSIGN_OR_RETURN(auto loader, BatchLoader::create(std::move(samples), loader_options));
  std::optional<TrainingLog> log;
  if (leader) {
    QSEG_ASSIGN_OR_RETURN(log, TrainingLog::open(options.out_dir / "train_log.csv", first_step));
  }

  StopSignals signals;
  const bool progress = options.progress && leader;
  const bool tty = progress && ::isatty(STDERR_FILENO);
  const auto start_time = std::chrono::steady_clock::now();
  auto last_print = start_time;
  std::deque<double> recent_seconds, recent_losses;
  TrainSummary summary;
  summary.first_step = first_step;
  if (leader) summary.checkpoint = checkpoint_path;
  const int64_t last =
      options.stop_at_step >= 0 ? std::min(options.steps, options.stop_at_step) : options.steps;
  const int global_batch = options.batch_size * options.world_size;
  const uint64_t dropout_seed = mix_seed(seed, 0xd0d0);
  int64_t step = first_step;
  const int size = options.augment.crop_size;
  try {
    for (; step < last; ++step) {
      const auto step_start = std::chrono::steady_clock::now();
      Result<Batch> loaded = loader->get(step);
      if (!loaded.is_ok()) return located(loaded.status());
      Batch& batch = loaded.value();
      const torch::Tensor images =
          torch::from_blob(batch.images.data(), {batch.batch_size, 3, size, size});
      const torch::Tensor labels =
          torch::from_blob(batch.labels.data(), {batch.batch_size, size, size}, torch::kUInt8)
              .to(torch::kLong);

      ForwardOptions forward;
      forward.training = true;
      forward.dropout_seed = dropout_seed;
      forward.first_example = batch.first_example;
      forward.batch_norm_training = options.train_batch_norm;
      forward.batch_norm_decay = options.batch_norm_decay;
      forward.replicas = replicas.get();
      const bool qat = options.quantize_delay_step >= 0;
      forward.quant.update_ranges = qat;
      forward.quant.quantize = qat && step >= options.quantize_delay_step;
      forward.quant.ema_decay = options.ema_decay;
      forward.quant.replicas = replicas.get();
      forward.freeze_batch_norm =
          options.freeze_batch_norm_step >= 0 && step >= options.freeze_batch_norm_step;

      namespace F = torch::nn::functional;
      const torch::Tensor logits =
          F::interpolate(model.forward(images, forward), F::InterpolateFuncOptions()
                                                             .size(std::vector<int64_t>{size, size})
                                                             .mode(torch::kBilinear)
                                                             .align_corners(true));
      // The loss is the mean over the valid pixels of the whole batch (every replica's part), so
      // the replicas' gradients add up to the gradient of the whole batch's loss.
      torch::Tensor valid = (labels != kIgnoreLabel).sum().to(torch::kFloat).reshape({1});
      if (replicas) replicas->sum(valid);
      const torch::Tensor loss =
          F::cross_entropy(
              logits, labels,
              F::CrossEntropyFuncOptions().ignore_index(kIgnoreLabel).reduction(torch::kSum)) /
          valid.clamp_min(1)[0];
      for (NamedParameter& p : optimizer.params) p.tensor.mutable_grad() = torch::Tensor();
      loss.backward();
      std::vector<torch::Tensor> grads;
      for (NamedParameter& p : optimizer.params) {
        torch::Tensor grad = p.tensor.grad();
        grads.push_back(grad.defined() ? grad : torch::zeros_like(p.tensor));
      }
      double loss_value = 0;
      bool stopping = g_stop_requested.load();
      if (replicas) {
        // One sum for all gradients, the loss and whether any replica was asked to stop (so all
        // stop at the same step).
        std::vector<torch::Tensor> parts;
        for (const torch::Tensor& g : grads) parts.push_back(g.reshape({-1}));
        parts.push_back(loss.detach().reshape({1}));
        parts.push_back(torch::full({1}, stopping ? 1.0f : 0.0f));
        torch::Tensor flat = torch::cat(parts);
        replicas->sum(flat);
        int64_t offset = 0;
        for (torch::Tensor& g : grads) {
          g = flat.narrow(0, offset, g.numel()).view_as(g);
          offset += g.numel();
        }
        loss_value = flat[offset].item<double>();
        stopping = flat[offset + 1].item<float>() > 0;
      } else {
        loss_value = loss.item<double>();
      }
      const double learning_rate = polynomial_learning_rate(
          options.base_learning_rate, step, options.steps, options.learning_rate_power);
      {
        torch::NoGradGuard no_grad;
        for (size_t i = 0; i < optimizer.params.size(); ++i) {
          NamedParameter& p = optimizer.params[i];
          torch::Tensor grad = grads[i];
          if (p.weight_decay && options.weight_decay > 0)
            grad = grad + options.weight_decay * p.tensor;
          optimizer.momentum[i].mul_(options.momentum).add_(grad);
          p.tensor.add_(optimizer.momentum[i], -learning_rate);
        }
      }
      if (!std::isfinite(loss_value)) {
        return located(Status::error("the loss became " + fmt::format("{}", loss_value) +
                                     " at step " + std::to_string(step + 1) +
                                     " (learning rate too high?)"));
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
      record.images_per_second = global_batch / mean_seconds;
      record.seconds = std::chrono::duration<double>(now - start_time).count();
      record.quantized = forward.quant.quantize;
      if (log) QSEG_RETURN_IF_ERROR(log->append(record));
      summary.final_loss = mean_loss;
      summary.images_per_second = record.images_per_second;
      if (progress && (tty || std::chrono::duration<double>(now - last_print).count() >= 30 ||
                       step + 1 == last)) {
        const std::string line =
            progress_line(step + 1, options.steps, mean_loss, learning_rate,
                          record.images_per_second, mean_seconds * (options.steps - step - 1));
        std::fprintf(stderr, tty ? "\r%s\033[K" : "%s\n", line.c_str());
        std::fflush(stderr);
        last_print = now;
      }
      if ((step + 1) % options.checkpoint_every == 0 || step + 1 == last || stopping) {
        if (replicas) {
          // Replicas that apply the same summed gradients hold the same weights: check it
          // before rank 0 writes them for everyone.
          const uint64_t mine = weights_fingerprint(optimizer);
          torch::Tensor both = torch::tensor(
              {static_cast<int64_t>(mine), static_cast<int64_t>(~mine)}, torch::kInt64);
          replicas->max(both);
          if (static_cast<uint64_t>(both[0].item<int64_t>()) != mine ||
              static_cast<uint64_t>(both[1].item<int64_t>()) != ~mine) {
            return located(Status::error("the replicas' weights differ after step " +
                                         std::to_string(step + 1) + " (a bug: please report it)"));
          }
        }
        if (leader) {
          // The checkpoint comes last: once it holds step N, the log on disk has rows 1..N and
          // the plot shows them, whenever a kill or power cut strikes; a failure before it (a
          // full disk) leaves the previous checkpoint, from which --resume redoes this step.
          QSEG_RETURN_IF_ERROR(log->sync());
          QSEG_RETURN_IF_ERROR(write_loss_svg(options.out_dir / "loss.svg", log->records(),
                                              "qseg train: loss per step"));
          QSEG_RETURN_IF_ERROR(
              write_checkpoint_file(checkpoint_path, state_checkpoint(state, options, step + 1)));
        }
      }
      if (stopping) {
        summary.interrupted = true;
        ++step;
        break;
      }
    }
  } catch (const ReplicaError& e) {
    return located(Status::error("step " + std::to_string(step + 1) + ": " + e.what() +
                                 "; stopping (resume from the last checkpoint)"));
  } catch (const c10::Error& e) {
    return located(Status::error("libtorch failed at step " + std::to_string(step + 1) + ": " +
                                 e.what_without_backtrace()));
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

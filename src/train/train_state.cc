// A training run's state and its checkpoints, and the checks of its flags (see train_state.h).
#include "train/train_state.h"

#include <cstdio>

#include "train/replicas.h"

namespace qseg::train {
namespace {

constexpr const char* kFormat = "qseg-deeplab-checkpoint";

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

// The model of a checkpoint, its output stride replaced when asked.
Result<DeepLabModel> load_model(CheckpointFile& file, const std::string& name, int output_stride) {
  if (output_stride > 0 && file.meta.contains("model"))
    file.meta["model"]["output_stride"] = output_stride;
  return DeepLabModel::load(file, name);
}

// The class count of a checkpoint's model config.
Result<int> checkpoint_class_count(const CheckpointFile& file, const std::string& name) {
  if (!file.meta.contains("model")) return Status::error(name + ": checkpoint has no model config");
  auto config = config_from_json(file.meta["model"]);
  if (!config.is_ok()) return config.status().with_context(name);
  return config.value().num_classes;
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
  flags["num_classes"] = o.num_classes;
  flags["reinitialize_logits"] = o.reinitialize_logits;
  flags["class_names"] = o.class_names;
  return flags;
}

}  // namespace

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
          {"ema_decay", o.ema_decay},
          {"range_init", o.range_init == RangeInit::kCalibrate ? "calibrate" : "tracked"},
          {"range_calibration_images", o.range_calibration_images}};
}

CheckpointFile state_checkpoint(const State& state, const TrainOptions& options, int64_t step) {
  CheckpointFile file;
  file.meta["format"] = kFormat;
  state.model->save(&file);
  file.meta["train"] = train_meta(options, step, state.seed);
  file.meta["quantized"] = options.quantize_delay_step >= 0 && step >= options.quantize_delay_step;
  file.meta["origin"] = state.origin;
  if (!state.class_names.is_null()) file.meta["class_names"] = state.class_names;
  if (!state.class_colors.is_null()) file.meta["class_colors"] = state.class_colors;
  for (size_t i = 0; i < state.optimizer.params.size(); ++i) {
    file.tensors.push_back(to_checkpoint_tensor("momentum/" + state.optimizer.params[i].name,
                                                state.optimizer.momentum[i]));
  }
  return file;
}

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
  state.class_names = file.meta.value("class_names", nlohmann::json());
  state.class_colors = file.meta.value("class_colors", nlohmann::json());
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
    const int classes = state.model->config().num_classes;
    if (options.num_classes > 0 && options.num_classes != classes) {
      return Status::error(checkpoint_path.string() + " trains a model of " +
                           std::to_string(classes) + " classes: --num-classes " +
                           std::to_string(options.num_classes) + " cannot change it on --resume");
    }
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
    const std::string name = options.init_checkpoint.string();
    state.origin = {{"init", name}, {"of", init.meta.value("origin", nlohmann::json())}};
    QSEG_ASSIGN_OR_RETURN(const int classes, checkpoint_class_count(init, name));
    if (options.reinitialize_logits ||
        (options.num_classes > 0 && options.num_classes != classes)) {
      // Transfer: the logits layer alone starts anew, for the new class count.
      if (options.num_classes > 0) init.meta["model"]["num_classes"] = options.num_classes;
      state.reinitialized = {kLogitsScope};
      state.origin["reinitialized"] = state.reinitialized;
      state.origin["classes_before"] = classes;
    } else {
      state.class_names = init.meta.value("class_names", nlohmann::json());
      state.class_colors = init.meta.value("class_colors", nlohmann::json());
    }
    if (options.output_stride > 0) init.meta["model"]["output_stride"] = options.output_stride;
    QSEG_ASSIGN_OR_RETURN(state.model, DeepLabModel::load(init, name, state.reinitialized,
                                                          mix_seed(state.seed, 0x1a1)));
  }
  const int classes = state.model->config().num_classes;
  if (!options.class_names.empty()) {
    if (static_cast<int>(options.class_names.size()) != classes) {
      return Status::error(std::to_string(options.class_names.size()) +
                           " class names for a model of " + std::to_string(classes) +
                           " classes (give --num-classes " +
                           std::to_string(options.class_names.size()) + " to train new logits)");
    }
    state.class_names = options.class_names;
    state.class_colors =
        options.class_colors.empty() ? nlohmann::json() : nlohmann::json(options.class_colors);
  }
  QSEG_ASSIGN_OR_RETURN(state.optimizer, make_optimizer(*state.model, nullptr, ""));
  return state;
}

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

double polynomial_learning_rate(double base, int64_t step, int64_t steps, double power) {
  if (steps <= 0) return 0.0;
  const double remaining =
      1.0 - static_cast<double>(std::min(step, steps)) / static_cast<double>(steps);
  return base * std::pow(remaining, power);
}

ReplicaOptions replica_options(const TrainOptions& o) {
  ReplicaOptions r;
  r.world_size = o.world_size;
  r.rank = o.rank;
  r.master = o.master;
  r.timeout = std::chrono::milliseconds(static_cast<int64_t>(o.timeout_seconds * 1000.0 + 0.5));
  r.interface = o.interface;
  return r;
}

Status validate(const TrainOptions& o) {
  if (o.from_scratch == !o.init_checkpoint.empty() && !o.resume) {
    return Status::error("give exactly one of --init CHECKPOINT and --from-scratch");
  }
  if (o.from_scratch) QSEG_RETURN_IF_ERROR(validate(o.scratch_config));
  if (o.from_scratch && o.reinitialize_logits)
    return Status::error("--reinitialize-logits needs --init CHECKPOINT");
  if (o.num_classes < 0 || o.num_classes > 255) {
    return Status::error("--num-classes must be in [1, 255], got " + std::to_string(o.num_classes));
  }
  if (!o.class_colors.empty() && o.class_colors.size() != o.class_names.size())
    return Status::error("give one colour per class name, or none");
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
  if (o.range_calibration_images < 1 || o.range_calibration_images > 100000) {
    return Status::error("--range-calibration-images must be in [1, 100000], got " +
                         std::to_string(o.range_calibration_images));
  }
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

}  // namespace qseg::train

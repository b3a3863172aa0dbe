// A training run's state (model, momentum, step, seed) and its checkpoints, and the flags' checks.
// The state is made from the flags, read from a checkpoint (resume, or rank 0's state sent to a
// replica) or written as one.
// train_state.cc also holds the checks of the flags (validate) and the learning-rate schedule.
// Internal to src/train (trainer.cc); header kept C++17 (libtorch translation units include it).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "train/model.h"
#include "train/model_names.h"
#include "train/replicas.h"
#include "train/trainer.h"

namespace qseg::train {

struct Optimizer {
  std::vector<NamedParameter> params;
  std::vector<torch::Tensor> momentum;  // one buffer per parameter
};

// Where training stands: the model, the optimizer's momentum, the next step and the run's seed.
struct State {
  std::optional<DeepLabModel> model;
  Optimizer optimizer;
  int64_t first_step = 0;
  uint64_t seed = 0;
  nlohmann::json origin;
  // The class names and colours the checkpoints record (null: none).
  nlohmann::json class_names;
  nlohmann::json class_colors;
  // Layers re-initialized at the start (transfer to a new class set), for the log.
  std::vector<std::string> reinitialized;
};

// The "train" entry of a checkpoint's meta: the step and the flags that decide the run.
nlohmann::json train_meta(const TrainOptions& o, int64_t step, uint64_t seed);

// The checkpoint of a state at `step` (what checkpoint.ckpt holds, and what rank 0 sends).
CheckpointFile state_checkpoint(const State& state, const TrainOptions& options, int64_t step);

// The state a training checkpoint holds (resuming, or a replica receiving rank 0's state).
Result<State> state_from_checkpoint(CheckpointFile& file, const std::string& name,
                                    int output_stride);

// Where this run starts: out_dir's checkpoint (resume), random weights or the --init checkpoint.
Result<State> starting_state(const TrainOptions& options,
                             const std::filesystem::path& checkpoint_path);

// Every replica runs with rank 0's flags, or every replica stops with an error.
Status check_same_flags(const Replicas& replicas, const TrainOptions& options);

// A fingerprint of the weights: replicas that apply the same summed gradients stay identical.
uint64_t weights_fingerprint(const Optimizer& optimizer);

// The replicas' part of the flags (world size, rank, master, timeout, interface).
ReplicaOptions replica_options(const TrainOptions& o);

}  // namespace qseg::train

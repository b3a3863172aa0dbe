// Training DeepLab in libtorch: float or quantization-aware (TensorFlow's contrib quantize
// semantics), from an initial checkpoint or from scratch, with DeepLab's recipe (softmax cross
// entropy ignoring 255, SGD with momentum 0.9, polynomial learning-rate decay with power 0.9,
// L2 weight decay), atomic checkpoints and exact resume. No libtorch types in this header: the
// command line (tools/qseg/train_command.cc) calls it.
//
// Usage:
//   TrainOptions options;
//   options.init_checkpoint = "imported.ckpt";
//   options.data = {{"../shared/coco-voc", "train.txt"}};
//   options.steps = 2000;
//   options.quantize_delay_step = 0;  // quantization-aware from the first step
//   options.out_dir = "runs/qat";
//   QSEG_ASSIGN_OR_RETURN(TrainSummary summary, train(options));
//
// Data-parallel: set world_size, rank and master in every replica's options (the same otherwise),
// or run `qseg launch --nproc N train ...`; see the fields below and train/replicas.h.
//
// Files in out_dir: checkpoint.ckpt (the latest, replaced atomically every checkpoint_every
// steps and at the end), train_log.csv (one row per step), loss.svg (the loss curve, written at
// every checkpoint).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "qseg/status.h"
#include "train/model_names.h"
#include "train/support/data.h"

namespace qseg::train {

enum class RangeInit { kCalibrate, kTracked };

struct TrainOptions {
  // Where the weights start: a checkpoint (imported or trained), or random (from_scratch, with
  // scratch_config describing the model).
  std::filesystem::path init_checkpoint;
  bool from_scratch = false;
  DeepLabConfig scratch_config;
  int output_stride = 0;  // 0: the checkpoint's; else override it (the weights do not depend on it)
  // Transfer to a new class set: with init_checkpoint, a class count other than the checkpoint's
  // (or reinitialize_logits) gives the model a new, randomly initialized logits layer
  // (logits/semantic) and keeps every other layer's weights and ranges. 0: the checkpoint's.
  int num_classes = 0;
  bool reinitialize_logits = false;
  // The class names (and "#RRGGBB" colours, empty or one per class) recorded in the checkpoints;
  // empty: the init checkpoint's when the class set is unchanged, else none.
  std::vector<std::string> class_names;
  std::vector<std::string> class_colors;

  std::vector<DataSource> data;
  AugmentOptions augment;
  int batch_size = 8;
  int loader_threads = 2;
  ImageLimits image_limits;  // for the training photos and labels (--max-image-mp)

  int64_t steps = 1000;
  double base_learning_rate = 1e-4;
  double learning_rate_power = 0.9;
  double momentum = 0.9;
  double weight_decay = 4e-5;
  bool train_batch_norm =
      true;  // false: moving statistics, frozen (DeepLab's fine_tune_batch_norm)
  float batch_norm_decay = 0.9997f;

  // Quantization-aware training: -1 off; 0 fake quantization from the first step; N > 0 from
  // step N (ranges are tracked from the first step either way, as TensorFlow does).
  int64_t quantize_delay_step = -1;
  // With batch norm under quantization: from this step on, moving statistics (-1: never).
  int64_t freeze_batch_norm_step = -1;
  float ema_decay = 0.999f;
  // Where the activation ranges start at step quantize_delay_step, before its forward pass:
  // kCalibrate measures them on range_calibration_images training photos spread over the data,
  // as post-training quantization would (train/support/calibrated_ranges.h), so the first
  // quantized step is at least PTQ; kTracked keeps them as they are (the checkpoint's, or what
  // the moving averages made of the batches so far, the first batch setting a missing one).
  // The moving averages take over after that step either way.
  RangeInit range_init = RangeInit::kCalibrate;
  int range_calibration_images = 100;

  // Data-parallel training (train/replicas.h): this process is replica `rank` of `world_size`,
  // which meet at `master` (HOST:PORT, where rank 0 listens). batch_size is per replica: a step
  // trains on world_size * batch_size examples, the same ones for any split of them, with batch
  // norm synchronized, gradients summed and activation ranges reduced across replicas. Rank 0
  // reads the starting checkpoint and sends it to the others, and alone writes checkpoints, the
  // log and progress. A replica that stops or does not answer within timeout_seconds makes the
  // others stop with an error.
  int world_size = 1;
  int rank = 0;
  std::string master = "127.0.0.1:29500";
  double timeout_seconds = 300;
  std::string interface;  // network interface for the transport (empty: chosen from master)

  uint64_t seed = 0;
  int num_threads = 1;  // libtorch intra-op threads
  std::filesystem::path out_dir;
  int64_t checkpoint_every = 500;
  bool resume = false;        // continue from out_dir/checkpoint.ckpt
  int64_t stop_at_step = -1;  // stop (with a checkpoint) after this step, as if interrupted
  bool progress = true;       // a progress line on stderr
};

struct TrainSummary {
  int64_t first_step = 0;
  int64_t last_step = 0;             // steps run are [first_step, last_step)
  double final_loss = 0;             // mean over the last up-to-20 steps
  double images_per_second = 0;      // of the whole run (all replicas)
  std::filesystem::path checkpoint;  // empty on ranks other than 0
  bool interrupted = false;          // stopped by SIGINT/SIGTERM (the checkpoint is still written)
};

Status validate(const TrainOptions& options);
Result<TrainSummary> train(const TrainOptions& options);

// The learning rate of DeepLab's polynomial decay at `step` (0-based) of `steps`.
double polynomial_learning_rate(double base, int64_t step, int64_t steps, double power);

}  // namespace qseg::train

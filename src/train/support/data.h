// The training data pipeline: samples in the VOC, Cityscapes or ADE20K layout (read by
// src/eval/dataset.h) -> DeepLab's
// augmentation (random scale in [0.5, 2.0] by 0.25, pad with the mean pixel / ignore label,
// random crop, random left-right flip, 2/255 * x - 1) -> batches, prepared by background
// threads. Every batch is a function of (seed, step) only, whatever the thread count, so a run
// that resumes at step N sees exactly the batches a straight run would.
//
// Usage:
//   QSEG_ASSIGN_OR_RETURN(auto loader, BatchLoader::create(samples, options));
//   for (int64_t step = first; step < steps; ++step) {
//     QSEG_ASSIGN_OR_RETURN(Batch batch, loader->get(step));   // steps in increasing order
//     ... batch.images: [N, 3, S, S] floats, batch.labels: [N, S, S] class ids (255 ignored)
//   }
//
// Header kept C++17 (it is included by libtorch translation units).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "eval/label_map.h"
#include "qseg/image.h"
#include "qseg/limits.h"
#include "qseg/status.h"

namespace qseg::train {

inline constexpr uint8_t kIgnoreLabel = 255;

// One photo and its labels on disk (the same as src/eval's Sample, restated here so that this
// header stays free of C++20).
struct TrainingSample {
  std::string name;
  std::filesystem::path photo_path;
  std::filesystem::path label_path;
  std::shared_ptr<const LabelMap> label_map;  // applied as the labels are loaded; null: none
  DatasetKind kind = DatasetKind::kVoc;       // what the label values mean
  int class_count = 21;  // the model's classes: labels hold 0..class_count-1 or kIgnoreLabel
};

struct DataSource {
  std::filesystem::path root;
  std::filesystem::path
      split;  // as src/eval resolves it: as given, else ROOT/ImageSets/Segmentation/
  std::shared_ptr<const LabelMap> label_map;  // dataset values -> model classes; null: none
  DatasetKind kind = DatasetKind::kVoc;       // the layout (eval/label_map.h); split as there
  int class_count = 21;                       // the model's
};

// The samples of every source, in order; errors name the split file.
Result<std::vector<TrainingSample>> read_training_samples(const std::vector<DataSource>& sources);

struct AugmentOptions {
  int crop_size = 513;
  float min_scale = 0.5f;
  float max_scale = 2.0f;
  float scale_step = 0.25f;  // scales are min, min + step, ..., max, each equally likely
  bool flip = true;
};
Status validate(const AugmentOptions& options);

// One augmented example: image [3, S, S] normalized to [-1, 1] (padding is 0, the mean pixel),
// labels [S, S] (padding is kIgnoreLabel). Deterministic in `seed`.
void augment(const Image& rgb, const Image& labels, const AugmentOptions& options, uint64_t seed,
             float* image_chw, uint8_t* labels_out);

struct Batch {
  int64_t step = 0;
  int batch_size = 0;         // examples in this batch (this replica's part)
  int64_t first_example = 0;  // the run's index k of the first one
  int crop_size = 0;
  std::vector<float> images;    // batch_size * 3 * crop_size * crop_size
  std::vector<uint8_t> labels;  // batch_size * crop_size * crop_size
};

struct LoaderOptions {
  AugmentOptions augment;
  int batch_size = 8;  // per replica
  // Data-parallel training: replica `rank` of `world_size` makes examples
  // [rank * batch_size, (rank + 1) * batch_size) of each global batch of world_size * batch_size
  // examples, and reads only those photos.
  int rank = 0;
  int world_size = 1;
  uint64_t seed = 0;
  int num_threads = 2;       // background threads preparing batches
  int prefetch = 2;          // batches prepared ahead of the one asked for
  bool cache = true;         // keep decoded photos and labels in memory
  ImageLimits image_limits;  // a photo or label over them is an error naming the sample
};

// The k-th example of the run (k = step * world_size * batch_size + rank * batch_size + i) is
// sample order(epoch)[k % n] with epoch = k / n, order(epoch) a permutation drawn from (seed,
// epoch); its augmentation is drawn from (seed, k).
class BatchLoader {
 public:
  static Result<std::unique_ptr<BatchLoader>> create(std::vector<TrainingSample> samples,
                                                     const LoaderOptions& options);
  ~BatchLoader();
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;

  // The batch of `step`; steps must be asked for in increasing order. Errors name the sample.
  Result<Batch> get(int64_t step);
  // Which sample the k-th example is (for tests).
  size_t sample_index(int64_t example) const;

 private:
  BatchLoader() = default;
  void worker();
  Result<Batch> make_batch(int64_t step);
  Status load(size_t index, std::shared_ptr<const std::pair<Image, Image>>* out);
  const std::vector<uint32_t>& order(int64_t epoch) const;

  std::vector<TrainingSample> samples_;
  LoaderOptions options_;
  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable changed_;
  int64_t wanted_ = 0;         // the step the trainer waits for (or will ask for next)
  int64_t next_to_make_ = -1;  // the next step a worker picks up
  bool stopping_ = false;
  std::map<int64_t, Result<Batch>> ready_;
  std::mutex cache_mutex_;
  std::vector<std::shared_ptr<const std::pair<Image, Image>>> cache_;
  mutable std::mutex order_mutex_;
  mutable std::map<int64_t, std::vector<uint32_t>> orders_;
};

// A 64-bit mix (splitmix64) of a and b, for deriving independent seeds.
uint64_t mix_seed(uint64_t a, uint64_t b);

}  // namespace qseg::train

// Training batches: DeepLab's augmentation on dataset samples, prepared in background threads.
#include "train/support/data.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "eval/dataset.h"
#include "imgproc/image_ops.h"

namespace qseg::train {

uint64_t mix_seed(uint64_t a, uint64_t b) {
  uint64_t z = a + 0x9e3779b97f4a7c15ull * (b + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

Result<std::vector<TrainingSample>> read_training_samples(const std::vector<DataSource>& sources) {
  if (sources.empty()) return Status::error("no training data given");
  std::vector<TrainingSample> out;
  for (const DataSource& source : sources) {
    QSEG_ASSIGN_OR_RETURN(
        std::vector<Sample> samples,
        read_samples(DatasetSource{source.root, source.split, source.label_map, source.kind}));
    for (Sample& s : samples) {
      out.push_back({std::move(s.name), std::move(s.photo_path), std::move(s.label_path),
                     std::move(s.label_map), s.kind, source.class_count});
    }
  }
  return out;
}

Status validate(const AugmentOptions& o) {
  if (o.crop_size < 17 || o.crop_size > 4097) {
    return Status::error("crop size must be in [17, 4097], got " + std::to_string(o.crop_size));
  }
  if (!(o.min_scale > 0.0f && o.min_scale <= o.max_scale && o.max_scale <= 8.0f)) {
    return Status::error("scales must satisfy 0 < min <= max <= 8");
  }
  if (!(o.scale_step >= 0.0f)) return Status::error("scale step must be >= 0");
  return Status::ok();
}

void augment(const Image& rgb, const Image& labels, const AugmentOptions& o, uint64_t seed,
             float* image_chw, uint8_t* labels_out) {
  std::mt19937_64 rng(seed);
  // DeepLab's get_random_scale: one of linspace(min, max, (max - min) / step + 1).
  float scale = o.min_scale;
  if (o.scale_step > 0.0f && o.max_scale > o.min_scale) {
    const int count =
        static_cast<int>(std::floor((o.max_scale - o.min_scale) / o.scale_step + 1e-4f)) + 1;
    const int pick = std::uniform_int_distribution<int>(0, count - 1)(rng);
    scale = count > 1
                ? o.min_scale + (o.max_scale - o.min_scale) * static_cast<float>(pick) / (count - 1)
                : o.min_scale;
  } else if (o.max_scale > o.min_scale) {
    scale = std::uniform_real_distribution<float>(o.min_scale, o.max_scale)(rng);
  }
  // randomly_scale_image_and_label: sizes truncated, bilinear photo, nearest labels, corners
  // aligned.
  const int width = std::max(1, static_cast<int>(static_cast<float>(rgb.width) * scale));
  const int height = std::max(1, static_cast<int>(static_cast<float>(rgb.height) * scale));
  Image scaled_rgb, scaled_labels;
  const Image* photo = &rgb;
  const Image* truth = &labels;
  if (width != rgb.width || height != rgb.height) {
    scaled_rgb = resize_bilinear(rgb, width, height, /*align_corners=*/true);
    scaled_labels = resize_nearest(labels, width, height, /*align_corners=*/true);
    photo = &scaled_rgb;
    truth = &scaled_labels;
  }
  // Pad bottom/right to the crop size (mean pixel, ignore label), crop at random, flip at random.
  const int size = o.crop_size;
  const int padded_width = std::max(width, size), padded_height = std::max(height, size);
  const int offset_y = std::uniform_int_distribution<int>(0, padded_height - size)(rng);
  const int offset_x = std::uniform_int_distribution<int>(0, padded_width - size)(rng);
  const bool flip = o.flip && std::uniform_int_distribution<int>(0, 1)(rng) == 1;
  const size_t plane = static_cast<size_t>(size) * size;
  constexpr float kScale = 2.0f / 255.0f;
  for (int y = 0; y < size; ++y) {
    const int sy = offset_y + y;
    const uint8_t* photo_row = sy < height ? photo->row(sy) : nullptr;
    const uint8_t* label_row = sy < height ? truth->row(sy) : nullptr;
    for (int x = 0; x < size; ++x) {
      const int sx = offset_x + x;
      const size_t out = static_cast<size_t>(y) * size + (flip ? size - 1 - x : x);
      if (photo_row && sx < width) {
        const uint8_t* p = photo_row + static_cast<size_t>(sx) * 3;
        image_chw[out] = kScale * p[0] - 1.0f;
        image_chw[plane + out] = kScale * p[1] - 1.0f;
        image_chw[2 * plane + out] = kScale * p[2] - 1.0f;
        labels_out[out] = label_row[sx];
      } else {
        image_chw[out] = image_chw[plane + out] = image_chw[2 * plane + out] = 0.0f;
        labels_out[out] = kIgnoreLabel;
      }
    }
  }
}

Result<std::unique_ptr<BatchLoader>> BatchLoader::create(std::vector<TrainingSample> samples,
                                                         const LoaderOptions& options) {
  QSEG_RETURN_IF_ERROR(validate(options.augment));
  if (samples.empty()) return Status::error("the training split lists no photos");
  if (options.batch_size < 1 || options.batch_size > 1024) {
    return Status::error("batch size must be in [1, 1024], got " +
                         std::to_string(options.batch_size));
  }
  if (options.world_size < 1 || options.rank < 0 || options.rank >= options.world_size) {
    return Status::error("replica " + std::to_string(options.rank) + " of " +
                         std::to_string(options.world_size) + " does not exist");
  }
  if (options.num_threads < 0 || options.num_threads > 64) {
    return Status::error("loader threads must be in [0, 64], got " +
                         std::to_string(options.num_threads));
  }
  std::unique_ptr<BatchLoader> loader(new BatchLoader());
  loader->samples_ = std::move(samples);
  loader->options_ = options;
  loader->options_.prefetch = std::max(options.prefetch, 1);
  loader->cache_.resize(loader->samples_.size());
  for (int i = 0; i < options.num_threads; ++i)
    loader->threads_.emplace_back([l = loader.get()] { l->worker(); });
  return loader;
}

BatchLoader::~BatchLoader() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  for (std::thread& t : threads_) t.join();
}

const std::vector<uint32_t>& BatchLoader::order(int64_t epoch) const {
  std::lock_guard<std::mutex> lock(order_mutex_);
  auto it = orders_.find(epoch);
  if (it != orders_.end()) return it->second;
  while (orders_.size() > 4) orders_.erase(orders_.begin());  // old epochs are not asked for again
  std::vector<uint32_t> o(samples_.size());
  std::iota(o.begin(), o.end(), 0u);
  std::mt19937_64 rng(mix_seed(options_.seed, 0x5eed0000ull + static_cast<uint64_t>(epoch)));
  // Fisher-Yates with our own index draws (std::shuffle's sequence is library-specific).
  for (size_t i = o.size(); i > 1; --i) std::swap(o[i - 1], o[rng() % i]);
  return orders_.emplace(epoch, std::move(o)).first->second;
}

size_t BatchLoader::sample_index(int64_t example) const {
  const int64_t n = static_cast<int64_t>(samples_.size());
  return order(example / n)[static_cast<size_t>(example % n)];
}

Status BatchLoader::load(size_t index, std::shared_ptr<const std::pair<Image, Image>>* out) {
  if (options_.cache) {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    if (cache_[index]) {
      *out = cache_[index];
      return Status::ok();
    }
  }
  const TrainingSample& s = samples_[index];
  QSEG_ASSIGN_OR_RETURN(
      LoadedSample loaded,
      load_sample(Sample{s.name, s.photo_path, s.label_path, s.label_map, s.kind},
                  options_.image_limits, LabelCheck{s.class_count, kIgnoreLabel}));
  auto pair = std::make_shared<const std::pair<Image, Image>>(std::move(loaded.rgb),
                                                              std::move(loaded.labels));
  if (options_.cache) {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    cache_[index] = pair;
  }
  *out = std::move(pair);
  return Status::ok();
}

Result<Batch> BatchLoader::make_batch(int64_t step) {
  Batch batch;
  batch.step = step;
  batch.batch_size = options_.batch_size;
  batch.crop_size = options_.augment.crop_size;
  const size_t plane = static_cast<size_t>(batch.crop_size) * batch.crop_size;
  batch.images.resize(static_cast<size_t>(batch.batch_size) * 3 * plane);
  batch.labels.resize(static_cast<size_t>(batch.batch_size) * plane);
  batch.first_example = (step * options_.world_size + options_.rank) * batch.batch_size;
  for (int i = 0; i < batch.batch_size; ++i) {
    const int64_t example = batch.first_example + i;
    std::shared_ptr<const std::pair<Image, Image>> sample;
    QSEG_RETURN_IF_ERROR(load(sample_index(example), &sample));
    augment(sample->first, sample->second, options_.augment,
            mix_seed(options_.seed, static_cast<uint64_t>(example)),
            batch.images.data() + static_cast<size_t>(i) * 3 * plane,
            batch.labels.data() + static_cast<size_t>(i) * plane);
  }
  return batch;
}

void BatchLoader::worker() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    changed_.wait(lock, [&] {
      return stopping_ || (next_to_make_ >= 0 && next_to_make_ < wanted_ + options_.prefetch);
    });
    if (stopping_) return;
    const int64_t step = next_to_make_++;
    lock.unlock();
    Result<Batch> batch = make_batch(step);
    lock.lock();
    ready_.emplace(step, std::move(batch));
    changed_.notify_all();
  }
}

Result<Batch> BatchLoader::get(int64_t step) {
  if (threads_.empty()) return make_batch(step);
  std::unique_lock<std::mutex> lock(mutex_);
  if (next_to_make_ >= 0 && step < wanted_) {
    lock.unlock();  // a step already passed: make it here, leaving the queue alone
    return make_batch(step);
  }
  if (next_to_make_ < 0 || step > next_to_make_)
    next_to_make_ = step;  // first call, or a jump ahead
  ready_.erase(ready_.begin(), ready_.lower_bound(step));
  wanted_ = step;
  changed_.notify_all();
  changed_.wait(lock, [&] { return ready_.count(step) > 0; });
  auto it = ready_.find(step);
  Result<Batch> batch = std::move(it->second);
  ready_.erase(ready_.begin(), std::next(it));
  wanted_ = step + 1;
  changed_.notify_all();
  return batch;
}

}  // namespace qseg::train

// Evaluator: models over dataset samples on worker threads, scored per photo, summed in order.
#include "eval/evaluator.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <limits>
#include <memory>
#include <mutex>
#include <numeric>
#include <thread>

#include "imgproc/image_io.h"
#include "qseg/segmenter.h"

namespace qseg {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// One worker's models.
using SegmenterSet = std::vector<std::unique_ptr<PhotoModel>>;

class TfliteModel : public PhotoModel {
 public:
  explicit TfliteModel(std::filesystem::path path, std::unique_ptr<Segmenter> segmenter)
      : path_(std::move(path)), segmenter_(std::move(segmenter)) {}

  ModelInfo info() const override {
    return {path_,
            segmenter_->input_width(),
            segmenter_->input_height(),
            std::string(data_type_name(segmenter_->interpreter().input_tensor().type)),
            segmenter_->outputs_labels(),
            segmenter_->classes(),
            segmenter_->classes_source() == ClassSetSource::kModel};
  }
  Result<Image> segment(const Image& rgb, int label_width, int label_height,
                        double* model_ms) override {
    SegmentTiming timing;
    auto prediction = segmenter_->segment(rgb, label_width, label_height, &timing);
    *model_ms = timing.total_ms();
    return prediction;
  }

 private:
  std::filesystem::path path_;
  std::unique_ptr<Segmenter> segmenter_;
};

// Why a photo failed: bad data can be skipped, anything else ends the run.
struct PhotoError {
  Status status;
  bool bad_data = false;
};

// What every photo of a run is scored with.
struct Scoring {
  ClassSet classes;
  int ignore_label = 255;
};

PhotoError run_photo(SegmenterSet& segmenters, const Sample& sample, const EvalOptions& options,
                     const Scoring& scoring, PhotoResult* out) {
  const LabelCheck check{scoring.classes.size(), scoring.ignore_label};
  int box_width = 0, box_height = 0;  // the largest model input, or 0 x 0: whole
  for (size_t m = 0; m < segmenters.size() && !options.full_decode; ++m) {
    const ModelInfo info = segmenters[m]->info();
    box_width = std::max(box_width, info.input_width);
    box_height = std::max(box_height, info.input_height);
  }
  auto loaded = load_sample(sample, options.image_limits, check, box_width, box_height);
  if (!loaded.is_ok()) return {loaded.status(), true};
  const LoadedSample& data = loaded.value();
  out->width = data.width;
  out->height = data.height;
  out->models.resize(segmenters.size());
  Image first_prediction;
  for (size_t m = 0; m < segmenters.size(); ++m) {
    PhotoModelResult& model_result = out->models[m];
    model_result.confusion = ConfusionMatrix(scoring.classes.size(), scoring.ignore_label);
    auto prediction =
        segmenters[m]->segment(data.rgb, data.width, data.height, &model_result.model_ms);
    if (!prediction.is_ok())
      return {prediction.status().with_context(sample.photo_path.string()), false};
    const Status added = model_result.confusion.add(prediction.value(), data.labels);
    if (!added.is_ok()) return {added.with_context(sample.photo_path.string()), false};
    if (options.keep_masks) {
      auto png = encode_label_png(prediction.value(), sample.name, scoring.classes.palette());
      if (!png.is_ok()) return {png.status(), false};
      model_result.mask_png = std::move(png).value();
    }
    if (m < options.save_masks_dirs.size()) {
      const Status written = write_label_png(options.save_masks_dirs[m] / (sample.name + ".png"),
                                             prediction.value(), scoring.classes.palette());
      if (!written.is_ok()) return {written, false};
    }
    if (m == 0) {
      first_prediction = std::move(prediction).value();
    } else if (m == 1) {
      const auto& a = first_prediction.pixels;
      const auto& b = prediction.value().pixels;
      int64_t same = 0;
      for (size_t i = 0; i < a.size(); ++i) same += a[i] == b[i] ? 1 : 0;
      out->agreeing_pixels = same;
    }
  }
  return {Status::ok(), false};
}

// Shared state of one run. Photos are handed out in index order; after a failure at index i no
// photo at or beyond i is started, and every photo before i has been started, so the error that
// ends the run is always the one of the first failing photo in split order.
class Run {
 public:
  Run(const std::vector<Sample>& samples, const EvalOptions& options, const Scoring& scoring,
      std::vector<PhotoResult>* photos)
      : samples_(samples),
        options_(options),
        scoring_(scoring),
        photos_(*photos),
        stop_before_(static_cast<int>(samples.size())) {}

  void work(SegmenterSet& segmenters) {
    for (;;) {
      const int i = next_.fetch_add(1);
      if (i >= stop_before_.load()) return;
      PhotoResult& photo = photos_[i];
      photo.name = samples_[i].name;
      PhotoError error = run_photo(segmenters, samples_[i], options_, scoring_, &photo);
      std::lock_guard<std::mutex> lock(mutex_);
      if (!error.status.is_ok()) {
        if (error.bad_data && options_.skip_bad) {
          photo = PhotoResult();
          photo.name = samples_[i].name;
          photo.bad = true;
          photo.error = error.status.message();
          ++bad_;
          if (options_.on_bad_sample) options_.on_bad_sample(samples_[i], error.status);
        } else if (i < failed_index_) {
          failed_index_ = i;
          failure_ = error.status;
          stop_before_.store(i);
        }
      }
      ++done_;
      if (options_.on_progress) {
        options_.on_progress(
            {done_, static_cast<int>(samples_.size()), bad_, seconds_since(start_)});
      }
    }
  }

  const Status& failure() const { return failure_; }

 private:
  const std::vector<Sample>& samples_;
  const EvalOptions& options_;
  const Scoring& scoring_;
  std::vector<PhotoResult>& photos_;
  std::atomic<int> next_{0};
  std::atomic<int> stop_before_;
  std::mutex mutex_;  // guards what follows
  int done_ = 0, bad_ = 0;
  int failed_index_ = std::numeric_limits<int>::max();
  Status failure_;
  const Clock::time_point start_ = Clock::now();
};

Result<std::vector<SegmenterSet>> load_models(std::span<const std::filesystem::path> models,
                                              int workers, const ModelOpener& open,
                                              std::vector<ModelInfo>* infos) {
  std::vector<SegmenterSet> sets(workers);
  for (int w = 0; w < workers; ++w) {
    for (const auto& path : models) {
      QSEG_ASSIGN_OR_RETURN(auto model, open ? open(path) : open_tflite_model(path));
      if (!model) return Status::error(path.string() + ": the model did not open");
      sets[w].push_back(std::move(model));
    }
  }
  for (const auto& model : sets[0]) infos->push_back(model->info());
  return sets;
}

// Photo indices of scored photos ordered by key (ascending), ties in split order.
template <typename Key>
std::vector<int> ordered_photos(const EvalResult& result, int count, const Key& key) {
  std::vector<int> indices;
  for (int i = 0; i < static_cast<int>(result.photos.size()); ++i) {
    if (!result.photos[i].bad) indices.push_back(i);
  }
  std::stable_sort(indices.begin(), indices.end(), [&](int a, int b) { return key(a) < key(b); });
  if (static_cast<int>(indices.size()) > count) indices.resize(std::max(count, 0));
  return indices;
}

double photo_miou(const EvalResult& result, int index, int model) {
  const auto& models = result.photos[index].models;
  if (model >= 0) return models[model].confusion.mean_iou();
  double sum = 0;
  for (const auto& m : models) sum += m.confusion.mean_iou();
  return models.empty() ? 0.0 : sum / static_cast<double>(models.size());
}

// The run's classes: every model must have the same count; named by --labels, else by the first
// model's own names, else by the dataset's labels.txt, else the defaults.
Result<ClassSet> run_classes(const std::vector<ModelInfo>& models, const EvalOptions& options) {
  const int count = models[0].classes.size();
  for (const ModelInfo& model : models) {
    if (model.classes.size() != count) {
      return Status::error(models[0].path.string() + " has " + std::to_string(count) +
                           " classes but " + model.path.string() + " has " +
                           std::to_string(model.classes.size()) +
                           ": the models must tell the same classes apart");
    }
  }
  auto checked = [&](const ClassSet& set, const std::string& name) -> Result<ClassSet> {
    if (set.size() != count) {
      return Status::error(name + ": " + std::to_string(set.size()) +
                           " class names, but the model " + models[0].path.string() + " has " +
                           std::to_string(count) + " classes");
    }
    return set;
  };
  if (!options.labels.empty()) return checked(options.labels, options.labels_name);
  if (models[0].classes_from_model) return models[0].classes;
  if (!options.dataset_labels.empty())
    return checked(options.dataset_labels, options.dataset_labels_name);
  return models[0].classes;
}

}  // namespace

Result<std::unique_ptr<PhotoModel>> open_tflite_model(const std::filesystem::path& path,
                                                      SegmenterOptions options) {
  options.num_threads = 1;  // parallelism comes from the evaluator's workers
  QSEG_ASSIGN_OR_RETURN(auto segmenter, Segmenter::load(path, options));
  return std::unique_ptr<PhotoModel>(new TfliteModel(path, std::move(segmenter)));
}

double EvalResult::mean_model_ms(int model) const {
  double sum = 0;
  for (const PhotoResult& photo : photos) {
    if (!photo.bad && model < static_cast<int>(photo.models.size()))
      sum += photo.models[model].model_ms;
  }
  return scored_count > 0 ? sum / scored_count : 0.0;
}

Result<EvalResult> evaluate(std::span<const std::filesystem::path> models,
                            std::vector<Sample> samples, const EvalOptions& options) {
  if (models.empty()) return Status::error("no model given");
  if (samples.empty()) return Status::error("no photos to evaluate");
  if (options.num_threads < 1) return Status::error("the thread count must be at least 1");
  EvalResult result;
  const int workers = std::min(options.num_threads, static_cast<int>(samples.size()));
  QSEG_ASSIGN_OR_RETURN(std::vector<SegmenterSet> segmenters,
                        load_models(models, workers, options.open_model, &result.models));
  if (options.ignore_label < -1 || options.ignore_label > 255) {
    return Status::error("the ignore label must be in 0..255, got " +
                         std::to_string(options.ignore_label));
  }
  QSEG_ASSIGN_OR_RETURN(result.classes, run_classes(result.models, options));
  result.ignore_label = options.ignore_label;
  const Scoring scoring{result.classes, options.ignore_label};
  result.samples = std::move(samples);
  result.photos.resize(result.samples.size());
  result.num_threads = options.num_threads;

  const auto start = Clock::now();
  Run run(result.samples, options, scoring, &result.photos);
  std::vector<std::thread> threads;
  for (int w = 1; w < workers; ++w)
    threads.emplace_back([&run, &segmenters, w] { run.work(segmenters[w]); });
  run.work(segmenters[0]);
  for (auto& t : threads) t.join();
  result.seconds = seconds_since(start);
  if (!run.failure().is_ok()) return run.failure();

  // Sum in split order (integer counts: the order does not change the result).
  result.confusion.assign(models.size(),
                          ConfusionMatrix(result.classes.size(), result.ignore_label));
  for (const PhotoResult& photo : result.photos) {
    if (photo.bad) {
      ++result.bad_count;
      continue;
    }
    ++result.scored_count;
    for (size_t m = 0; m < models.size(); ++m) result.confusion[m].merge(photo.models[m].confusion);
    if (models.size() >= 2) {
      result.agreeing_pixels += photo.agreeing_pixels;
      result.compared_pixels += photo.pixels();
    }
  }
  return result;
}

std::vector<int> best_photos(const EvalResult& result, int model, int count) {
  return ordered_photos(result, count, [&](int i) { return -photo_miou(result, i, model); });
}

std::vector<int> worst_photos(const EvalResult& result, int model, int count) {
  return ordered_photos(result, count, [&](int i) { return photo_miou(result, i, model); });
}

std::vector<int> most_disagreeing_photos(const EvalResult& result, int count) {
  if (result.models.size() < 2) return {};
  return ordered_photos(result, count, [&](int i) { return result.photos[i].agreement(); });
}

}  // namespace qseg

// Evaluator: runs one or more models (.tflite files through the same Segmenter as `qseg segment`,
// or anything else behind PhotoModel, e.g. a training checkpoint) over the samples of a
// VOC-layout dataset and scores each prediction against its label at the photo's own size. With
// two models it also counts where their predictions agree (`qseg compare`).
//
// Usage:
//   EvalOptions options;
//   options.num_threads = 2;
//   QSEG_ASSIGN_OR_RETURN(EvalResult result, evaluate({model_path}, samples, options));
//   double miou = result.confusion[0].mean_iou();
//
// Threads: N workers, each with its own instance of every model (one interpreter thread each), take
// photos from a shared counter; per-photo results are stored by photo index and summed in split
// order at the end. All scores are integer counts, so they are identical for any N.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "eval/confusion.h"
#include "eval/dataset.h"
#include "qseg/class_set.h"
#include "qseg/image.h"
#include "qseg/segmenter.h"
#include "qseg/status.h"

namespace qseg {

struct EvalProgress {
  int done = 0;  // photos finished (scored or skipped)
  int total = 0;
  int bad = 0;  // skipped as bad data so far
  double seconds = 0;
};

struct ModelInfo {
  std::filesystem::path path;
  int input_width = 0, input_height = 0;
  std::string input_type;           // "uint8", "float32", "float32 (libtorch)", ...
  bool outputs_labels = true;       // ArgMax in the model (else per-class scores)
  ClassSet classes;                 // the model's classes (their count is the model's)
  bool classes_from_model = false;  // named by the model itself (else the defaults)
};

// A model as the evaluator runs it: a photo in, class ids (0..N-1) at the photo's size out.
class PhotoModel {
 public:
  virtual ~PhotoModel() = default;
  virtual ModelInfo info() const = 0;
  // *model_ms: the time spent, pre- and post-processing included. The labels are
  // label_width x label_height: the photo's full size when `rgb` was decoded reduced.
  virtual Result<Image> segment(const Image& rgb, int label_width, int label_height,
                                double* model_ms) = 0;
};

// Opens one instance of a model (called once per worker thread, so instances need not be
// thread-safe).
using ModelOpener =
    std::function<Result<std::unique_ptr<PhotoModel>>(const std::filesystem::path& path)>;

// A .tflite through qseg's Segmenter with one interpreter thread (the default opener).
// `options` may set the model and arena limits (and the kernels); its thread count is ignored.
Result<std::unique_ptr<PhotoModel>> open_tflite_model(const std::filesystem::path& path,
                                                      SegmenterOptions options = {});

struct EvalOptions {
  // How model paths are opened; null: open_tflite_model.
  ModelOpener open_model;
  int num_threads = 1;  // worker threads, each with its own instance of every model
  // Without skip_bad, the first bad sample in split order (missing or unreadable photo or label,
  // size mismatch, label values that are neither the model's classes nor the ignore label) ends
  // the run with its error. With it, bad samples are recorded in PhotoResult::error and counted.
  bool skip_bad = false;
  // Keep each prediction as label PNG bytes in PhotoModelResult::mask_png (for reports).
  bool keep_masks = false;
  // Photos and labels larger than these are bad samples (see skip_bad).
  ImageLimits image_limits;
  // Large JPEG photos are decoded only as far as the largest model input needs (as qseg segment
  // decodes them: decode_photo_for_box); true decodes every photo whole.
  bool full_decode = false;
  // The label value that is not scored (0..255; -1: none).
  int ignore_label = 255;
  // Names of the models' classes: `labels` (--labels) overrides what the models carry;
  // `dataset_labels` (a dataset's labels.txt) names models that carry none. Either must have the
  // models' class count. Empty: not given.
  ClassSet labels;
  std::string labels_name;  // the file of `labels`, for errors
  ClassSet dataset_labels;
  std::string dataset_labels_name;
  // Empty, or one folder per model: each prediction is written there as NAME.png (palette PNG in
  // the classes' colours).
  std::vector<std::filesystem::path> save_masks_dirs;
  // Called after every photo, from worker threads, one call at a time.
  std::function<void(const EvalProgress&)> on_progress;
  // Called for each bad sample skipped (skip_bad), from worker threads, one call at a time.
  std::function<void(const Sample&, const Status&)> on_bad_sample;
};

struct PhotoModelResult {
  ConfusionMatrix confusion;      // this photo alone
  double model_ms = 0;            // time in Segmenter::segment
  std::vector<uint8_t> mask_png;  // the prediction as a palette PNG (the classes'), when keep_masks
};

struct PhotoResult {
  std::string name;
  bool bad = false;
  std::string error;  // why a bad sample was skipped
  int width = 0, height = 0;
  std::vector<PhotoModelResult> models;  // one per model; empty for a bad sample
  // With two or more models: pixels (all of the photo, void included) where models 0 and 1
  // predict the same class.
  int64_t agreeing_pixels = 0;

  int64_t pixels() const { return static_cast<int64_t>(width) * height; }
  double agreement() const {
    return pixels() > 0 ? static_cast<double>(agreeing_pixels) / pixels() : 0.0;
  }
};

struct EvalResult {
  std::vector<ModelInfo> models;
  ClassSet classes;  // the models' classes (every model has the same count), as named for output
  int ignore_label = 255;
  std::vector<Sample> samples;
  std::vector<PhotoResult> photos;         // one per sample, in split order
  std::vector<ConfusionMatrix> confusion;  // one per model: all scored photos together
  int scored_count = 0, bad_count = 0;
  int64_t agreeing_pixels = 0, compared_pixels = 0;  // models 0 and 1, over scored photos
  int num_threads = 1;
  double seconds = 0;  // wall-clock time of the run, models loaded

  double photos_per_second() const { return seconds > 0 ? scored_count / seconds : 0.0; }
  double agreement() const {
    return compared_pixels > 0 ? static_cast<double>(agreeing_pixels) / compared_pixels : 0.0;
  }
  double mean_model_ms(int model) const;
};

// Loads every model num_threads times, then runs them all on every sample. Errors: a model that
// does not load, models with different class counts, a labels file of another count, a bad
// sample (unless skip_bad), a prediction outside the classes, a mask not written.
Result<EvalResult> evaluate(std::span<const std::filesystem::path> models,
                            std::vector<Sample> samples, const EvalOptions& options);

// Indices of scored photos ordered by their own mIoU (of `model`, or the mean over all models
// when model < 0), best first or worst first; ties keep split order. At most `count`.
std::vector<int> best_photos(const EvalResult& result, int model, int count);
std::vector<int> worst_photos(const EvalResult& result, int model, int count);
// Scored photos with the lowest agreement between models 0 and 1, lowest first.
std::vector<int> most_disagreeing_photos(const EvalResult& result, int count);

}  // namespace qseg

// Training checkpoints as models of `qseg eval` and `qseg compare` (qseg-train only): run in
// libtorch, scored with the same photos, pre/post-processing and confusion matrix as .tflite files.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <chrono>

#include "eval_shared.h"
#include "imgproc/image_ops.h"
#include "model/checkpoint_file.h"
#include "model/model_config.h"
#include "train/checkpoint_segmenter.h"

namespace qseg::cli {
namespace {

class CheckpointModel : public PhotoModel {
 public:
  CheckpointModel(std::filesystem::path path, std::unique_ptr<train::CheckpointSegmenter> s,
                  ClassSet classes, bool classes_from_model, std::string views)
      : path_(std::move(path)),
        segmenter_(std::move(s)),
        classes_(std::move(classes)),
        classes_from_model_(classes_from_model),
        views_(std::move(views)) {}

  ModelInfo info() const override {
    return {path_,
            segmenter_->input_width(),
            segmenter_->input_height(),
            segmenter_->simulated_quantization()
                ? "uint8 simulated (libtorch checkpoint)"
                : "float32 (libtorch checkpoint" + (views_.empty() ? "" : ", " + views_) + ")",
            true,
            classes_,
            classes_from_model_};
  }
  Result<Image> segment(const Image& rgb, int label_width, int label_height,
                        double* model_ms) override {
    const auto start = std::chrono::steady_clock::now();
    auto labels = segmenter_->segment(rgb);
    // A photo decoded reduced: its labels enlarged to the full size as the Segmenter enlarges
    // them (nearest, corners aligned).
    if (labels.is_ok() && (labels->width != label_width || labels->height != label_height)) {
      labels = resize_nearest(*labels, label_width, label_height, /*align_corners=*/true);
    }
    *model_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    return labels;
  }

 private:
  std::filesystem::path path_;
  std::unique_ptr<train::CheckpointSegmenter> segmenter_;
  ClassSet classes_;
  bool classes_from_model_ = false;
  std::string views_;  // the multi-scale / flip views, "" for one
};

// The checkpoint's classes: its config's count, named by its class_names when it has them.
Result<ClassSet> checkpoint_class_set(const std::filesystem::path& path, bool* from_model) {
  QSEG_ASSIGN_OR_RETURN(model::CheckpointFile file, model::read_checkpoint_file(path));
  QSEG_ASSIGN_OR_RETURN(model::DeepLabConfig config,
                        model::config_from_json(file.meta.value("model", nlohmann::json())));
  QSEG_ASSIGN_OR_RETURN(std::optional<ClassSet> named,
                        model::checkpoint_classes(file, path.string()));
  *from_model = named.has_value();
  if (!named) return ClassSet::default_for(config.num_classes);
  if (named->size() != config.num_classes) {
    return Status::error(path.string() + ": " + std::to_string(named->size()) +
                         " class_names, but the model has " + std::to_string(config.num_classes) +
                         " classes");
  }
  return std::move(*named);
}

}  // namespace

Result<std::unique_ptr<PhotoModel>> open_checkpoint_model(const std::filesystem::path& path,
                                                          const CheckpointRunOptions& run) {
  train::CheckpointSegmenterOptions options;
  options.num_threads = 1;  // parallelism comes from the evaluator's workers
  options.precision = run.precision == "float"       ? train::CheckpointPrecision::kFloat
                      : run.precision == "simulated" ? train::CheckpointPrecision::kSimulated
                                                     : train::CheckpointPrecision::kAuto;
  options.output =
      run.output == "scores" ? train::CheckpointOutput::kScores : train::CheckpointOutput::kLabels;
  options.scales = run.scales;
  options.flip = run.flip;
  QSEG_ASSIGN_OR_RETURN(auto segmenter, train::CheckpointSegmenter::load(path, options));
  bool from_model = false;
  QSEG_ASSIGN_OR_RETURN(ClassSet classes, checkpoint_class_set(path, &from_model));
  std::string views;  // "scales 0.5,0.75,1 + flip"
  if (segmenter->multi_view()) {
    std::vector<double> scales = run.scales.empty() ? std::vector<double>{1.0} : run.scales;
    views = "scales " + fmt::format("{}", fmt::join(scales, ",")) + (run.flip ? " + flip" : "");
  }
  return std::unique_ptr<PhotoModel>(
      new CheckpointModel(path, std::move(segmenter), std::move(classes), from_model, views));
}

}  // namespace qseg::cli

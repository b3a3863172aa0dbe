// Training checkpoints as models of `qseg eval` and `qseg compare` (qseg-train only): run in
// libtorch, scored with the same photos, pre/post-processing and confusion matrix as .tflite files.
#include <chrono>

#include "eval_shared.h"
#include "train/checkpoint_segmenter.h"

namespace qseg::cli {
namespace {

class CheckpointModel : public PhotoModel {
 public:
  CheckpointModel(std::filesystem::path path, std::unique_ptr<train::CheckpointSegmenter> s)
      : path_(std::move(path)), segmenter_(std::move(s)) {}

  ModelInfo info() const override {
    return {path_, segmenter_->input_width(), segmenter_->input_height(),
            segmenter_->simulated_quantization() ? "uint8 simulated (libtorch checkpoint)"
                                                 : "float32 (libtorch checkpoint)",
            true};
  }
  Result<Image> segment(const Image& rgb, double* model_ms) override {
    const auto start = std::chrono::steady_clock::now();
    auto labels = segmenter_->segment(rgb);
    *model_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    return labels;
  }

 private:
  std::filesystem::path path_;
  std::unique_ptr<train::CheckpointSegmenter> segmenter_;
};

}  // namespace

Result<std::unique_ptr<PhotoModel>> open_checkpoint_model(const std::filesystem::path& path,
                                                          const std::string& precision,
                                                          const std::string& output) {
  train::CheckpointSegmenterOptions options;
  options.num_threads = 1;  // parallelism comes from the evaluator's workers
  options.precision = precision == "float"       ? train::CheckpointPrecision::kFloat
                      : precision == "simulated" ? train::CheckpointPrecision::kSimulated
                                                 : train::CheckpointPrecision::kAuto;
  options.output =
      output == "scores" ? train::CheckpointOutput::kScores : train::CheckpointOutput::kLabels;
  QSEG_ASSIGN_OR_RETURN(auto segmenter, train::CheckpointSegmenter::load(path, options));
  return std::unique_ptr<PhotoModel>(new CheckpointModel(path, std::move(segmenter)));
}

}  // namespace qseg::cli

// The evaluator's model opener for the command line: .tflite files through qseg's Segmenter, and
// qseg training checkpoints (recognized by their first bytes) through libtorch, so that
// `qseg eval` and `qseg compare` score both with the same photos, pre/post-processing and
// confusion matrix.
#include <chrono>
#include <cstring>
#include <fstream>

#include "eval_shared.h"
#include "train/checkpoint_segmenter.h"

namespace qseg::cli {
namespace {

class CheckpointModel : public PhotoModel {
 public:
  CheckpointModel(std::filesystem::path path, std::unique_ptr<train::CheckpointSegmenter> s)
      : path_(std::move(path)), segmenter_(std::move(s)) {}

  ModelInfo info() const override {
    const int size = segmenter_->input_size();
    return {path_, size, size,
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

bool is_checkpoint_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[8] = {};
  return in.read(magic, sizeof magic) && std::memcmp(magic, "QSEGCKPT", 8) == 0;
}

Result<ModelOpener> model_opener(const DatasetArgs& args) {
  const std::string& precision = args.precision;
  const std::string& output = args.checkpoint_output;
  const InputLimits& limits = args.limits;
  const Requantization requantization = args.requantization;
  const KernelIsa kernels = args.kernels;
  train::CheckpointPrecision p;
  if (precision == "auto") {
    p = train::CheckpointPrecision::kAuto;
  } else if (precision == "float") {
    p = train::CheckpointPrecision::kFloat;
  } else if (precision == "simulated") {
    p = train::CheckpointPrecision::kSimulated;
  } else {
    return Status::error("--precision must be auto, float or simulated, got '" + precision + "'");
  }
  if (output != "labels" && output != "scores")
    return Status::error("--checkpoint-output must be labels or scores, got '" + output + "'");
  const train::CheckpointOutput o =
      output == "labels" ? train::CheckpointOutput::kLabels : train::CheckpointOutput::kScores;
  return ModelOpener([p, o, limits, requantization, kernels](
                         const std::filesystem::path& path) -> Result<std::unique_ptr<PhotoModel>> {
    if (!is_checkpoint_file(path)) {
      SegmenterOptions options;
      options.requantization = requantization;
      options.kernel_isa = kernels;
      options.model_limits = limits.model;
      options.max_arena_bytes = limits.max_arena_bytes;
      return open_tflite_model(path, options);
    }
    train::CheckpointSegmenterOptions options;
    options.num_threads = 1;  // parallelism comes from the evaluator's workers
    options.precision = p;
    options.output = o;
    QSEG_ASSIGN_OR_RETURN(auto segmenter, train::CheckpointSegmenter::load(path, options));
    return std::unique_ptr<PhotoModel>(new CheckpointModel(path, std::move(segmenter)));
  });
}

}  // namespace qseg::cli

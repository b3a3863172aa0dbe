// Segmenting photos with a libtorch checkpoint, float or with simulated quantization.
#include "train/checkpoint_segmenter.h"

#include <torch/torch.h>

#include <cstring>

#include "train/model.h"
#include "train/model_names.h"

namespace qseg::train {

struct CheckpointSegmenter::State {
  std::filesystem::path path;
  std::unique_ptr<DeepLabModel> model;
  int input_width = 0, input_height = 0;
  bool simulated = false;
  int num_threads = 1;
  CheckpointOutput output = CheckpointOutput::kLabels;
};

CheckpointSegmenter::CheckpointSegmenter(std::unique_ptr<State> state) : state_(std::move(state)) {}
CheckpointSegmenter::~CheckpointSegmenter() = default;
int CheckpointSegmenter::input_width() const { return state_->input_width; }
int CheckpointSegmenter::input_height() const { return state_->input_height; }
bool CheckpointSegmenter::simulated_quantization() const { return state_->simulated; }

Result<std::unique_ptr<CheckpointSegmenter>> CheckpointSegmenter::load(
    const std::filesystem::path& path, const CheckpointSegmenterOptions& options) {
  if (options.num_threads < 1 || options.num_threads > 256)
    return Status::error("threads must be in [1, 256]");
  if (options.input_size != 0 && (options.input_size < 17 || options.input_size > 4097)) {
    return Status::error("input size must be in [17, 4097], got " +
                         std::to_string(options.input_size));
  }
  try {
    QSEG_ASSIGN_OR_RETURN(CheckpointFile file, read_checkpoint_file(path));
    QSEG_ASSIGN_OR_RETURN(DeepLabModel model, DeepLabModel::load(file, path.string()));
    auto state = std::make_unique<State>();
    state->path = path;
    state->input_width = options.input_size > 0 ? options.input_size : model.config().input_width;
    state->input_height = options.input_size > 0 ? options.input_size : model.config().input_height;
    state->num_threads = options.num_threads;
    state->output = options.output;
    const bool quantized = file.quantized();
    state->simulated = options.precision == CheckpointPrecision::kSimulated ||
                       (options.precision == CheckpointPrecision::kAuto && quantized);
    if (state->simulated) {
      for (const ConvLayer& l : model.layers()) {
        if (!l.output_range.initialized) {
          return Status::error(path.string() + ": has no activation range for " + l.spec.name +
                               ", cannot simulate quantization (train with --quantize-delay-step)");
        }
      }
    }
    state->model = std::make_unique<DeepLabModel>(std::move(model));
    return std::unique_ptr<CheckpointSegmenter>(new CheckpointSegmenter(std::move(state)));
  } catch (const c10::Error& e) {
    return Status::error(path.string() + ": libtorch failed: " + e.what_without_backtrace());
  }
}

Result<Image> CheckpointSegmenter::segment(const Image& rgb) {
  if (rgb.channels != 3 || rgb.empty())
    return Status::error("segment needs a non-empty 3-channel RGB image");
  try {
    torch::set_num_threads(state_->num_threads);
    torch::NoGradGuard no_grad;
    PreparedInput input = prepare_float_input(rgb, state_->input_width, state_->input_height);
    const int width = input.width, height = input.height;
    const torch::Tensor image =
        torch::from_blob(input.pixels.data(), {1, height, width, 3}, torch::kFloat32)
            .permute({0, 3, 1, 2})
            .contiguous();
    ForwardOptions forward;
    forward.quant.quantize = state_->simulated;
    namespace F = torch::nn::functional;
    const torch::Tensor logits = state_->model->forward(image, forward);
    if (state_->output == CheckpointOutput::kScores) {
      const torch::Tensor scores = logits[0].permute({1, 2, 0}).contiguous();
      return scores_to_photo(scores.data_ptr<float>(), static_cast<int>(scores.size(0)),
                             static_cast<int>(scores.size(1)), static_cast<int>(scores.size(2)),
                             input, rgb.width, rgb.height);
    }
    const torch::Tensor labels =
        F::interpolate(logits, F::InterpolateFuncOptions()
                                   .size(std::vector<int64_t>{height, width})
                                   .mode(torch::kBilinear)
                                   .align_corners(true))
            .argmax(1)
            .to(torch::kUInt8)
            .contiguous();
    Image ids(width, height, 1);
    std::memcpy(ids.pixels.data(), labels.data_ptr<uint8_t>(), ids.pixels.size());
    return labels_to_photo(ids, input, rgb.width, rgb.height);
  } catch (const c10::Error& e) {
    return Status::error(state_->path.string() +
                         ": libtorch failed: " + e.what_without_backtrace());
  }
}

Result<SegmentationScores> evaluate_checkpoint(const std::filesystem::path& path,
                                               const std::vector<TrainingSample>& samples,
                                               const CheckpointSegmenterOptions& options,
                                               const std::function<void(int, int)>& progress,
                                               const ImageLimits& image_limits) {
  QSEG_ASSIGN_OR_RETURN(auto segmenter, CheckpointSegmenter::load(path, options));
  return score_segmenter(
      samples, [&](const Image& rgb) { return segmenter->segment(rgb); }, progress, image_limits);
}

}  // namespace qseg::train

// Segmenting photos with a libtorch checkpoint, float or with simulated quantization.
#include "train/checkpoint_segmenter.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>
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
  std::vector<double> scales{1.0};
  bool flip = false;
  bool multi_view() const { return flip || scales.size() != 1 || scales[0] != 1.0; }
};

int scaled_side(int side, double scale) {
  return static_cast<int>((static_cast<double>(side) - 1.0) * scale + 1.0);
}

Status check_eval_scales(const std::vector<double>& scales, int side) {
  for (size_t i = 0; i < scales.size(); ++i) {
    const double s = scales[i];
    if (!(s >= 0.25 && s <= 4.0)) {
      return Status::invalid_argument(fmt::format("each scale must be in [0.25, 4], got {}", s));
    }
    if (scaled_side(side, s) < 17) {
      return Status::invalid_argument(
          fmt::format("scale {} makes the {}-pixel input {} pixels, fewer than 17", s, side,
                      scaled_side(side, s)));
    }
    for (size_t j = 0; j < i; ++j) {
      if (scales[j] == s)
        return Status::invalid_argument(fmt::format("scale {} is given twice", s));
    }
  }
  return Status::ok();
}

CheckpointSegmenter::CheckpointSegmenter(std::unique_ptr<State> state) : state_(std::move(state)) {}
CheckpointSegmenter::~CheckpointSegmenter() = default;
int CheckpointSegmenter::input_width() const { return state_->input_width; }
int CheckpointSegmenter::input_height() const { return state_->input_height; }
bool CheckpointSegmenter::simulated_quantization() const { return state_->simulated; }
bool CheckpointSegmenter::multi_view() const { return state_->multi_view(); }

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
    if (!options.scales.empty()) {
      QSEG_RETURN_IF_ERROR(
          check_eval_scales(options.scales, std::min(state->input_width, state->input_height)));
      state->scales = options.scales;
    }
    state->flip = options.flip;
    if (state->simulated && state->multi_view()) {
      return Status::invalid_argument(
          path.string() +
          ": multi-scale and flipped evaluation is for float (--precision float): DeepLab "
          "evaluates quantized models at one scale, as they run on the device");
    }
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
    const auto resize = [](const torch::Tensor& x, int64_t h, int64_t w) {
      return F::interpolate(x, F::InterpolateFuncOptions()
                                   .size(std::vector<int64_t>{h, w})
                                   .mode(torch::kBilinear)
                                   .align_corners(true));
    };
    if (state_->multi_view()) {
      // The mean of every view's softmax at the input size (DeepLab's predict_labels_multi_scale).
      torch::Tensor mean;
      int views = 0;
      for (const double scale : state_->scales) {
        const torch::Tensor scaled =
            scale == 1.0 ? image
                         : resize(image, scaled_side(height, scale), scaled_side(width, scale));
        for (const bool flipped : {false, true}) {
          if (flipped && !state_->flip) continue;
          torch::Tensor logits =
              state_->model->forward(flipped ? scaled.flip({3}) : scaled, forward);
          logits = resize(logits, height, width);
          if (flipped) logits = logits.flip({3});
          const torch::Tensor p = torch::softmax(logits, 1);
          mean = mean.defined() ? mean + p : p;
          ++views;
        }
      }
      mean = mean / static_cast<double>(views);
      if (state_->output == CheckpointOutput::kScores) {
        const torch::Tensor scores = mean[0].permute({1, 2, 0}).contiguous();
        return scores_to_photo(scores.data_ptr<float>(), height, width,
                               static_cast<int>(scores.size(2)), input, rgb.width, rgb.height);
      }
      const torch::Tensor labels = mean.argmax(1).to(torch::kUInt8).contiguous();
      Image ids(width, height, 1);
      std::memcpy(ids.pixels.data(), labels.data_ptr<uint8_t>(), ids.pixels.size());
      return labels_to_photo(ids, input, rgb.width, rgb.height);
    }
    const torch::Tensor logits = state_->model->forward(image, forward);
    if (state_->output == CheckpointOutput::kScores) {
      const torch::Tensor scores = logits[0].permute({1, 2, 0}).contiguous();
      return scores_to_photo(scores.data_ptr<float>(), static_cast<int>(scores.size(0)),
                             static_cast<int>(scores.size(1)), static_cast<int>(scores.size(2)),
                             input, rgb.width, rgb.height);
    }
    const torch::Tensor labels =
        resize(logits, height, width).argmax(1).to(torch::kUInt8).contiguous();
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

// Segmenter-equivalent pre/post-processing and scoring for libtorch checkpoints.
#include "train/support/segment_steps.h"

#include "eval/confusion.h"
#include "eval/dataset.h"
#include "imgproc/image_ops.h"
#include "qseg/segmenter.h"

namespace qseg::train {

PreparedInput prepare_float_input(const Image& rgb, int width, int height) {
  PreparedInput p;
  p.width = width;
  p.height = height;
  p.pixels.resize(static_cast<size_t>(width) * height * 3);
  fill_float_model_input(rgb, width, height, kDefaultInputMean, kDefaultInputStd, p.pixels.data(),
                         &p.resized_width, &p.resized_height);
  return p;
}

Image labels_to_photo(const Image& labels, const PreparedInput& input, int photo_width,
                      int photo_height) {
  Image cropped = crop(labels, 0, 0, input.resized_width, input.resized_height);
  if (input.resized_width == photo_width && input.resized_height == photo_height) return cropped;
  return resize_nearest(cropped, photo_width, photo_height, /*align_corners=*/true);
}

Image scores_to_photo(const float* scores, int height, int width, int classes,
                      const PreparedInput& input, int photo_width, int photo_height) {
  const ScoreGrid grid{scores, DataType::kFloat32, height, width, classes};
  return labels_from_score_grid(grid, input.width, input.height, input.resized_width,
                                input.resized_height, photo_width, photo_height);
}

Result<SegmentationScores> score_segmenter(const std::vector<TrainingSample>& samples,
                                           const SegmentFunction& segment,
                                           const std::function<void(int, int)>& progress,
                                           const ImageLimits& image_limits) {
  // The model's classes, as the samples were read for it (21 without samples: VOC's).
  const int class_count = samples.empty() ? 21 : samples[0].class_count;
  ConfusionMatrix total(class_count, kIgnoreLabel);
  SegmentationScores scores;
  for (size_t i = 0; i < samples.size(); ++i) {
    const TrainingSample& s = samples[i];
    QSEG_ASSIGN_OR_RETURN(
        LoadedSample sample,
        load_sample(Sample{s.name, s.photo_path, s.label_path, s.label_map, s.kind}, image_limits,
                    LabelCheck{s.class_count, kIgnoreLabel}));
    QSEG_ASSIGN_OR_RETURN(Image prediction, segment(sample.rgb));
    Status added = total.add(prediction, sample.labels);
    if (!added.is_ok()) return added.with_context(s.photo_path.string());
    ++scores.photos;
    if (progress) progress(static_cast<int>(i + 1), static_cast<int>(samples.size()));
  }
  scores.mean_iou = total.mean_iou();
  scores.pixel_accuracy = total.pixel_accuracy();
  for (int c = 0; c < total.class_count(); ++c)
    scores.class_iou.push_back(total.iou(c).value_or(-1.0));
  return scores;
}

}  // namespace qseg::train

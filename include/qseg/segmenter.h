// Segmenter: photo in, class-id mask out, through one model. It does what the published models
// leave outside themselves: resize the photo to fit the model input (keeping its aspect ratio),
// pad bottom/right with the mean pixel, run, crop the padding away and bring the labels back to
// the photo's size. Every qseg tool that segments photos goes through this one path.
#pragma once

#include <filesystem>
#include <memory>
#include <vector>

#include "qseg/class_set.h"
#include "qseg/graph.h"
#include "qseg/image.h"
#include "qseg/interpreter.h"
#include "qseg/normalization.h"
#include "qseg/status.h"
#include "qseg/tflite.h"

namespace qseg {

struct SegmenterOptions {
  int num_threads = 1;
  // Float inputs get (pixel - mean) / std; DeepLab's convention maps [0, 255] to [-1, 1]. The
  // padding is the mean pixel, i.e. 0 after normalization. Quantized (uint8) inputs take the
  // pixels as they are and are padded with the input's zero point (128 for the published
  // models, which were converted with mean 128 and std 128).
  float float_mean = kDefaultInputMean;  // see qseg/normalization.h
  float float_std = kDefaultInputStd;
  ModelLimits model_limits;
  int64_t max_arena_bytes = InterpreterOptions{}.max_arena_bytes;
  Requantization requantization = Requantization::kXnnpack;  // see qseg/requantization.h
  KernelIsa kernel_isa = KernelIsa::kAuto;                   // see qseg/interpreter.h
  bool fuse_inverted_residuals = false;                      // see qseg/interpreter.h
  // A labels file (qseg/class_set.h) naming the model's classes, overriding the names the model
  // carries; it must have the model's class count. Empty: the model's own, else the default.
  std::filesystem::path labels_file;
};

// Where a Segmenter's class names and colours come from.
enum class ClassSetSource { kDefault, kModel, kLabelsFile };

struct SegmentTiming {
  double preprocess_ms = 0;
  double invoke_ms = 0;
  double postprocess_ms = 0;
  double total_ms() const { return preprocess_ms + invoke_ms + postprocess_ms; }
};

class Segmenter {
 public:
  static Result<std::unique_ptr<Segmenter>> create(Graph graph,
                                                   const SegmenterOptions& options = {});
  static Result<std::unique_ptr<Segmenter>> load(const std::filesystem::path& model,
                                                 const SegmenterOptions& options = {});

  // rgb: 3-channel image of any size. Returns a 1-channel image of class ids of the same size.
  Result<Image> segment(const Image& rgb, SegmentTiming* timing = nullptr);
  // The same with the labels at label_width x label_height: for a photo decoded at a reduced size
  // (decode_photo_for_box), its mask at the photo's full size. The labels cover the same scene
  // (pixel (x, y) of the labels is the photo at (x, y) * rgb size / label size); sides 1..65535.
  Result<Image> segment(const Image& rgb, int label_width, int label_height,
                        SegmentTiming* timing = nullptr);
  static constexpr int kMaxLabelSide = 65535;

  // The exact model input segment() feeds the model for this photo (resized, padded and, for
  // float models, normalized), as bytes: what qseg diff gives both sides of a comparison.
  Result<std::vector<uint8_t>> model_input(const Image& rgb);

  int input_width() const { return input_width_; }
  int input_height() const { return input_height_; }
  // True when the model ends in ARG_MAX (labels); false when it outputs per-class scores.
  bool outputs_labels() const { return outputs_labels_; }
  // The model's classes (their count is the model's: the scores' channels, or the channels its
  // ARG_MAX reduces), named by SegmenterOptions::labels_file, else by the labels the model
  // carries, else ClassSet::default_for.
  const ClassSet& classes() const { return classes_; }
  int class_count() const { return classes_.size(); }
  ClassSetSource classes_source() const { return classes_source_; }
  Interpreter& interpreter() { return *interpreter_; }

 private:
  Segmenter() = default;
  Status preprocess(const Image& rgb, int* resized_width, int* resized_height);
  Image labels_from_argmax(int resized_width, int resized_height, int width, int height) const;
  Image labels_from_scores(int resized_width, int resized_height, int width, int height) const;

  SegmenterOptions options_;
  std::unique_ptr<Interpreter> interpreter_;
  int input_width_ = 0, input_height_ = 0;
  DataType input_type_ = DataType::kUInt8;
  uint8_t input_pad_ = 128;
  bool outputs_labels_ = true;
  ClassSet classes_;
  ClassSetSource classes_source_ = ClassSetSource::kDefault;
};

// The number of classes a segmentation graph tells apart: the channels of a score output, or of
// the input of the ARG_MAX that makes a label output; 0 when the graph does not say.
int model_class_count(const Graph& graph);
// The class set for a model of `class_count` classes: `labels_file` when given, else the graph's
// class_labels when it has them, else ClassSet::default_for. A set of another size is an error
// naming the file (or the model's metadata).
Result<ClassSet> resolve_class_set(const Graph& graph, int class_count,
                                   const std::filesystem::path& labels_file,
                                   ClassSetSource* source);

// The size an image of width x height takes when resized so that it fits into
// max_width x max_height with its aspect ratio kept (the longer side, relative to the box,
// becomes exact); images that already fit keep their size.
void fit_size(int width, int height, int max_width, int max_height, int* out_width,
              int* out_height);

// The float model input every path uses (the Segmenter, checkpoint evaluation, calibration): the
// photo resized to fit input_width x input_height with its aspect ratio kept (bilinear, corners
// aligned; photos that fit are not resized), normalized with normalize_pixel, in the top-left
// corner of dst ([input_height, input_width, 3]), the rest 0 (the mean pixel). Sets the resized
// size.
void fill_float_model_input(const Image& rgb, int input_width, int input_height, float mean,
                            float std, float* dst, int* resized_width, int* resized_height);

// Per-class scores [height, width, classes] (float32, uint8 or int8 sharing one scale) that
// cover a model input of input_width x input_height with corners aligned, as the models upsample.
struct ScoreGrid {
  const void* data = nullptr;
  DataType type = DataType::kFloat32;
  int height = 0, width = 0, classes = 0;
};

// Class ids at the photo's size (photo_width x photo_height) from scores whose model input held
// the photo resized to resized_width x resized_height in its top-left corner: each photo pixel
// takes the bilinear mix of the four nearest grid scores, then ArgMax. This is how the Segmenter
// finishes models that output scores; libtorch checkpoints use it too.
Image labels_from_score_grid(const ScoreGrid& grid, int input_width, int input_height,
                             int resized_width, int resized_height, int photo_width,
                             int photo_height);

}  // namespace qseg

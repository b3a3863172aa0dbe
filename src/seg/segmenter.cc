// The photo -> mask path: preprocess into the model's input, run, postprocess to labels.
#include "qseg/segmenter.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>

#include "imgproc/image_ops.h"

namespace qseg {

namespace {
double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

// align_corners mapping of destination index d in [0, dst) to a source coordinate in [0, src).
inline float align_corners_coordinate(int d, int dst, int src) {
  return dst > 1 ? static_cast<float>(d) * static_cast<float>(src - 1) / static_cast<float>(dst - 1)
                 : 0.0f;
}
}  // namespace

void fit_size(int width, int height, int max_width, int max_height, int* out_width,
              int* out_height) {
  if (width <= max_width && height <= max_height) {
    *out_width = width;
    *out_height = height;
    return;
  }
  // Compare width/max_width with height/max_height without rounding: the side that is larger
  // relative to its bound becomes exactly that bound.
  if (static_cast<int64_t>(width) * max_height >= static_cast<int64_t>(height) * max_width) {
    *out_width = max_width;
    *out_height = static_cast<int>(
        std::max<int64_t>(1, (static_cast<int64_t>(height) * max_width + width / 2) / width));
  } else {
    *out_height = max_height;
    *out_width = static_cast<int>(
        std::max<int64_t>(1, (static_cast<int64_t>(width) * max_height + height / 2) / height));
  }
}

int model_class_count(const Graph& graph) {
  if (graph.outputs.size() != 1) return 0;
  const int32_t output = graph.outputs[0];
  const Tensor& out = graph.tensors[static_cast<size_t>(output)];
  if (out.type != DataType::kInt32 && out.type != DataType::kInt64)
    return out.shape.size() == 4 ? out.shape[3] : 0;
  for (const Op& op : graph.ops) {
    if (op.type != OpType::kArgMax || op.outputs.empty() || op.outputs[0] != output ||
        op.inputs.empty() || op.inputs[0] < 0)
      continue;
    const Tensor& scores = graph.tensors[static_cast<size_t>(op.inputs[0])];
    return scores.shape.empty() ? 0 : scores.shape.back();
  }
  return 0;
}

Result<ClassSet> resolve_class_set(const Graph& graph, int class_count,
                                   const std::filesystem::path& labels_file,
                                   ClassSetSource* source) {
  auto check_size = [&](ClassSet set, const std::string& name) -> Result<ClassSet> {
    if (set.size() != class_count) {
      return Status::error(name + ": " + std::to_string(set.size()) +
                           " class names, but the model has " + std::to_string(class_count) +
                           " classes");
    }
    return set;
  };
  if (!labels_file.empty()) {
    *source = ClassSetSource::kLabelsFile;
    QSEG_ASSIGN_OR_RETURN(ClassSet set, ClassSet::read_file(labels_file));
    return check_size(std::move(set), labels_file.string());
  }
  if (!graph.class_labels.empty()) {
    *source = ClassSetSource::kModel;
    const std::string name = "the model's " + std::string(kClassLabelsMetadataName) + " metadata";
    QSEG_ASSIGN_OR_RETURN(ClassSet set, ClassSet::parse(graph.class_labels, name));
    return check_size(std::move(set), name);
  }
  *source = ClassSetSource::kDefault;
  return ClassSet::default_for(class_count);
}

Result<std::unique_ptr<Segmenter>> Segmenter::load(const std::filesystem::path& model,
                                                   const SegmenterOptions& options) {
  QSEG_ASSIGN_OR_RETURN(Graph graph, read_tflite_file(model, options.model_limits));
  auto segmenter = create(std::move(graph), options);
  if (!segmenter.is_ok()) return segmenter.status().with_context(model.string());
  return segmenter;
}

Result<std::unique_ptr<Segmenter>> Segmenter::create(Graph graph, const SegmenterOptions& options) {
  if (graph.inputs.size() != 1 || graph.outputs.size() != 1) {
    return Status::error("a segmentation model has one input and one output, this one has " +
                         std::to_string(graph.inputs.size()) + " and " +
                         std::to_string(graph.outputs.size()));
  }
  const Tensor& in = graph.tensors[graph.inputs[0]];
  if (in.shape.size() != 4 || in.shape[0] != 1 || in.shape[3] != 3 || in.shape[1] < 1 ||
      in.shape[2] < 1) {
    return Status::error("the model input must be an RGB image [1, height, width, 3]");
  }
  if (in.type != DataType::kUInt8 && in.type != DataType::kFloat32) {
    return Status::error("the model input must be uint8 or float32, got " +
                         std::string(data_type_name(in.type)));
  }
  if (!(options.float_std > 0.0f)) return Status::error("the float input std must be positive");
  const Tensor& out = graph.tensors[graph.outputs[0]];
  const bool labels = out.type == DataType::kInt32 || out.type == DataType::kInt64;
  if (labels) {
    const bool shape_ok = (out.shape.size() == 3 || (out.shape.size() == 4 && out.shape[3] == 1)) &&
                          out.shape[0] == 1 && out.shape[1] == in.shape[1] &&
                          out.shape[2] == in.shape[2];
    if (!shape_ok)
      return Status::error("an ArgMax output must be [1, height, width] at the input's size");
  } else {
    if (out.type != DataType::kFloat32 && out.type != DataType::kUInt8 &&
        out.type != DataType::kInt8) {
      return Status::error(
          "the model output must be labels (int32/int64) or scores (float32/uint8/int8)");
    }
    if (out.shape.size() != 4 || out.shape[0] != 1 || out.shape[1] < 1 || out.shape[2] < 1 ||
        out.shape[3] < 1) {
      return Status::error("a score output must be [1, height, width, classes]");
    }
  }
  // Models that do not say fall back to the labels they carry, else to VOC's 21.
  int class_count = model_class_count(graph);
  if (class_count == 0) {
    class_count = 21;
    if (!graph.class_labels.empty()) {
      auto carried = ClassSet::parse(graph.class_labels, "labels");
      if (carried.is_ok()) class_count = carried->size();
    }
  }
  if (class_count > ClassSet::kMaxClasses) {
    return Status::error("the model has " + std::to_string(class_count) +
                         " classes; qseg supports at most " +
                         std::to_string(ClassSet::kMaxClasses));
  }
  std::unique_ptr<Segmenter> s(new Segmenter());
  QSEG_ASSIGN_OR_RETURN(
      s->classes_, resolve_class_set(graph, class_count, options.labels_file, &s->classes_source_));
  s->options_ = options;
  s->input_height_ = in.shape[1];
  s->input_width_ = in.shape[2];
  s->input_type_ = in.type;
  s->outputs_labels_ = labels;
  if (in.type == DataType::kUInt8 && !in.quant.empty()) {
    s->input_pad_ = static_cast<uint8_t>(std::clamp<int64_t>(in.quant.zero_point[0], 0, 255));
  }
  InterpreterOptions interpreter_options;
  interpreter_options.num_threads = options.num_threads;
  interpreter_options.max_arena_bytes = options.max_arena_bytes;
  interpreter_options.requantization = options.requantization;
  interpreter_options.kernel_isa = options.kernel_isa;
  interpreter_options.fuse_inverted_residuals = options.fuse_inverted_residuals;
  QSEG_ASSIGN_OR_RETURN(s->interpreter_,
                        Interpreter::create(std::move(graph), interpreter_options));
  return s;
}

Status Segmenter::preprocess(const Image& rgb, int* resized_width, int* resized_height) {
  fit_size(rgb.width, rgb.height, input_width_, input_height_, resized_width, resized_height);
  const int w = *resized_width, h = *resized_height;
  const bool resize = w != rgb.width || h != rgb.height;
  const size_t row_values = static_cast<size_t>(input_width_) * 3;
  if (input_type_ == DataType::kUInt8) {
    // Resized (or copied) straight into the input tensor, rows split across the threads; the
    // rest of each row and the rows below are padding.
    auto* dst = static_cast<uint8_t*>(interpreter_->tensor_data(interpreter_->graph().inputs[0]));
    interpreter_->parallel_for(input_height_, [&](int64_t y_begin, int64_t y_end) {
      const auto first = static_cast<int>(y_begin), last = static_cast<int>(y_end);
      if (resize) {
        resize_bilinear_rows(rgb, w, h, /*align_corners=*/true, first, std::min(last, h), dst,
                             row_values);
      }
      for (int y = first; y < last; ++y) {
        uint8_t* row = dst + y * row_values;
        size_t copied = 0;
        if (y < h) {
          copied = static_cast<size_t>(w) * 3;
          if (!resize) std::memcpy(row, rgb.row(y), copied);
        }
        std::memset(row + copied, input_pad_, row_values - copied);
      }
    });
    return Status::ok();
  }
  auto* dst = static_cast<float*>(interpreter_->tensor_data(interpreter_->graph().inputs[0]));
  fill_float_model_input(rgb, input_width_, input_height_, options_.float_mean, options_.float_std,
                         dst, resized_width, resized_height);
  return Status::ok();
}

void fill_float_model_input(const Image& rgb, int input_width, int input_height, float mean,
                            float std, float* dst, int* resized_width, int* resized_height) {
  fit_size(rgb.width, rgb.height, input_width, input_height, resized_width, resized_height);
  const int w = *resized_width, h = *resized_height;
  Image resized;
  const Image* source = &rgb;
  if (w != rgb.width || h != rgb.height) {
    resized = resize_bilinear(rgb, w, h, /*align_corners=*/true);
    source = &resized;
  }
  const size_t row_values = static_cast<size_t>(input_width) * 3;
  const float inverse_std = 1.0f / std;
  for (int y = 0; y < input_height; ++y) {
    float* row = dst + y * row_values;
    size_t copied = 0;
    if (y < h) {
      copied = static_cast<size_t>(w) * 3;
      const uint8_t* src = source->row(y);
      for (size_t i = 0; i < copied; ++i) row[i] = normalize_pixel(src[i], mean, inverse_std);
    }
    std::fill(row + copied, row + row_values, 0.0f);  // the mean pixel
  }
}

Image Segmenter::labels_from_argmax(int resized_width, int resized_height, int width,
                                    int height) const {
  const Tensor& out = interpreter_->output_tensor();
  const void* data = interpreter_->tensor_data(interpreter_->graph().outputs[0]);
  // Both steps split their rows across the interpreter's threads.
  Image cropped(resized_width, resized_height, 1);
  interpreter_->parallel_for(resized_height, [&](int64_t y_begin, int64_t y_end) {
    for (auto y = static_cast<int>(y_begin); y < y_end; ++y) {
      uint8_t* row = cropped.row(y);
      const int64_t base = static_cast<int64_t>(y) * input_width_;
      for (int x = 0; x < resized_width; ++x) {
        const int64_t label = out.type == DataType::kInt64
                                  ? static_cast<const int64_t*>(data)[base + x]
                                  : static_cast<const int32_t*>(data)[base + x];
        row[x] = static_cast<uint8_t>(std::clamp<int64_t>(label, 0, 255));
      }
    }
  });
  if (resized_width == width && resized_height == height) return cropped;
  Image labels(width, height, 1);
  interpreter_->parallel_for(height, [&](int64_t y_begin, int64_t y_end) {
    resize_nearest_rows(cropped, width, height, /*align_corners=*/true, static_cast<int>(y_begin),
                        static_cast<int>(y_end), labels.pixels.data(), static_cast<size_t>(width));
  });
  return labels;
}

Image Segmenter::labels_from_scores(int resized_width, int resized_height, int width,
                                    int height) const {
  const Tensor& out = interpreter_->output_tensor();
  const ScoreGrid grid{interpreter_->tensor_data(interpreter_->graph().outputs[0]), out.type,
                       out.shape[1], out.shape[2], out.shape[3]};
  return labels_from_score_grid(grid, input_width_, input_height_, resized_width, resized_height,
                                width, height);
}

namespace {

// Bilinear interpolation of the scores straight at each photo pixel, then ArgMax. A photo pixel
// maps to the resized photo (align corners), which is the top-left part of the model input,
// which maps to the score grid (align corners, as the models upsample). Quantized scores share
// one scale and zero point, so their order is that of the raw values.
template <typename T>
Image argmax_of_bilinear_scores(const T* scores, const ScoreGrid& grid, int input_width,
                                int input_height, int resized_width, int resized_height, int width,
                                int height) {
  const int sh = grid.height, sw = grid.width, classes = grid.classes;
  auto source_coordinate = [](int d, int photo, int resized, int input, int size) {
    const float r =
        resized == photo ? static_cast<float>(d) : align_corners_coordinate(d, photo, resized);
    return input > 1 ? r * static_cast<float>(size - 1) / static_cast<float>(input - 1) : 0.0f;
  };
  Image labels(width, height, 1);
  for (int y = 0; y < height; ++y) {
    const float fy = source_coordinate(y, height, resized_height, input_height, sh);
    const int y0 = std::clamp(static_cast<int>(std::floor(fy)), 0, sh - 1);
    const int y1 = std::min(y0 + 1, sh - 1);
    const float wy = fy - static_cast<float>(y0);
    uint8_t* row = labels.row(y);
    for (int x = 0; x < width; ++x) {
      const float fx = source_coordinate(x, width, resized_width, input_width, sw);
      const int x0 = std::clamp(static_cast<int>(std::floor(fx)), 0, sw - 1);
      const int x1 = std::min(x0 + 1, sw - 1);
      const float wx = fx - static_cast<float>(x0);
      const T* s00 = scores + (static_cast<int64_t>(y0) * sw + x0) * classes;
      const T* s01 = scores + (static_cast<int64_t>(y0) * sw + x1) * classes;
      const T* s10 = scores + (static_cast<int64_t>(y1) * sw + x0) * classes;
      const T* s11 = scores + (static_cast<int64_t>(y1) * sw + x1) * classes;
      int best = 0;
      float best_value = -std::numeric_limits<float>::infinity();
      for (int c = 0; c < classes; ++c) {
        const float a = static_cast<float>(s00[c]), b = static_cast<float>(s01[c]);
        const float d = static_cast<float>(s10[c]), e = static_cast<float>(s11[c]);
        const float top = a + (b - a) * wx;
        const float bottom = d + (e - d) * wx;
        const float v = top + (bottom - top) * wy;
        if (v > best_value) {
          best_value = v;
          best = c;
        }
      }
      row[x] = static_cast<uint8_t>(std::min(best, 255));
    }
  }
  return labels;
}

}  // namespace

Image labels_from_score_grid(const ScoreGrid& grid, int input_width, int input_height,
                             int resized_width, int resized_height, int photo_width,
                             int photo_height) {
  switch (grid.type) {
    case DataType::kFloat32:
      return argmax_of_bilinear_scores(static_cast<const float*>(grid.data), grid, input_width,
                                       input_height, resized_width, resized_height, photo_width,
                                       photo_height);
    case DataType::kUInt8:
      return argmax_of_bilinear_scores(static_cast<const uint8_t*>(grid.data), grid, input_width,
                                       input_height, resized_width, resized_height, photo_width,
                                       photo_height);
    default:
      return argmax_of_bilinear_scores(static_cast<const int8_t*>(grid.data), grid, input_width,
                                       input_height, resized_width, resized_height, photo_width,
                                       photo_height);
  }
}

namespace {
Status check_rgb(const Image& rgb) {
  if (rgb.channels != 3 || rgb.width < 1 || rgb.height < 1 ||
      rgb.pixels.size() != static_cast<size_t>(rgb.width) * rgb.height * 3) {
    return Status::error("segment needs a non-empty 3-channel RGB image");
  }
  return Status::ok();
}
}  // namespace

Result<std::vector<uint8_t>> Segmenter::model_input(const Image& rgb) {
  QSEG_RETURN_IF_ERROR(check_rgb(rgb));
  int resized_width = 0, resized_height = 0;
  QSEG_RETURN_IF_ERROR(preprocess(rgb, &resized_width, &resized_height));
  const auto bytes = interpreter_->input_bytes(0);
  return std::vector<uint8_t>(bytes.begin(), bytes.end());
}

Result<Image> Segmenter::segment(const Image& rgb, SegmentTiming* timing) {
  return segment(rgb, rgb.width, rgb.height, timing);
}

Result<Image> Segmenter::segment(const Image& rgb, int label_width, int label_height,
                                 SegmentTiming* timing) {
  QSEG_RETURN_IF_ERROR(check_rgb(rgb));
  if (label_width < 1 || label_height < 1 || label_width > kMaxLabelSide ||
      label_height > kMaxLabelSide) {
    return Status::error("labels of " + std::to_string(label_width) + "x" +
                         std::to_string(label_height) + " asked for: sides must be 1.." +
                         std::to_string(kMaxLabelSide));
  }
  auto start = std::chrono::steady_clock::now();
  int resized_width = 0, resized_height = 0;
  QSEG_RETURN_IF_ERROR(preprocess(rgb, &resized_width, &resized_height));
  SegmentTiming t;
  t.preprocess_ms = ms_since(start);
  start = std::chrono::steady_clock::now();
  interpreter_->invoke();
  t.invoke_ms = ms_since(start);
  start = std::chrono::steady_clock::now();
  Image labels = outputs_labels_
                     ? labels_from_argmax(resized_width, resized_height, label_width, label_height)
                     : labels_from_scores(resized_width, resized_height, label_width, label_height);
  t.postprocess_ms = ms_since(start);
  if (timing) *timing = t;
  return labels;
}

}  // namespace qseg

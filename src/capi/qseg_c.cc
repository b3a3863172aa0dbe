// The C API (include/qseg/qseg_c.h) over the Segmenter: a new thread count or labels file rebuilds
// the Segmenter from the Graph its interpreter holds (the model's weights are kept once); every
// entry point catches what the C++ side may throw (only std::bad_alloc in practice) and turns it
// into an error.
#include "qseg/qseg_c.h"

#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <span>
#include <string>
#include <utility>

#include "qseg/segmenter.h"
#include "qseg/tflite.h"

struct qseg_model {
  qseg::SegmenterOptions options;
  std::unique_ptr<qseg::Segmenter> segmenter;
};

namespace {

constexpr int kMaxThreads = 256;
constexpr int kMaxSide = 65535;

thread_local std::string last_error;

qseg_status fail(qseg_status status, std::string message) {
  try {
    last_error = std::move(message);
  } catch (...) {
    last_error.clear();  // out of memory for the message itself: "" is all we can say
  }
  return status;
}

qseg_status fail(const qseg::Status& status) { return fail(QSEG_FAILED, status.message()); }

qseg_status fail_exception() {
  try {
    throw;
  } catch (const std::bad_alloc&) {
    return fail(QSEG_FAILED, "out of memory");
  } catch (const std::exception& e) {
    return fail(QSEG_FAILED, std::string("internal error: ") + e.what());
  } catch (...) {
    return fail(QSEG_FAILED, "internal error");
  }
}

// Takes the graph, builds its Segmenter; NULL (and the error) on failure.
qseg_model* make_model(qseg::Result<qseg::Graph> graph) {
  if (!graph.is_ok()) {
    fail(graph.status());
    return nullptr;
  }
  auto model = std::make_unique<qseg_model>();
  auto segmenter = qseg::Segmenter::create(std::move(graph).value(), model->options);
  if (!segmenter.is_ok()) {
    fail(segmenter.status());
    return nullptr;
  }
  model->segmenter = std::move(segmenter).value();
  return model.release();
}

// Rebuilds the model's Segmenter with `options`; on failure the model is left as it was.
qseg_status rebuild(qseg_model* model, const qseg::SegmenterOptions& options) {
  auto segmenter = qseg::Segmenter::create(model->segmenter->interpreter().graph(), options);
  if (!segmenter.is_ok()) return fail(segmenter.status());
  model->segmenter = std::move(segmenter).value();
  model->options = options;
  return QSEG_OK;
}

// An error naming `function` unless `class_id` is one of the model's classes.
qseg_status check_class(const qseg_model* model, int class_id, const char* function) {
  if (!model) return fail(QSEG_INVALID_ARGUMENT, std::string(function) + ": model is NULL");
  const int count = model->segmenter->class_count();
  if (class_id < 0 || class_id >= count) {
    return fail(QSEG_INVALID_ARGUMENT, std::string(function) + ": class " +
                                           std::to_string(class_id) + " is outside 0.." +
                                           std::to_string(count - 1));
  }
  return QSEG_OK;
}

}  // namespace

extern "C" {

int qseg_api_version(void) { return QSEG_C_API_VERSION; }

qseg_model* qseg_model_load_file(const char* path) {
  if (!path) {
    fail(QSEG_INVALID_ARGUMENT, "qseg_model_load_file: path is NULL");
    return nullptr;
  }
  try {
    qseg_model* model = make_model(qseg::read_tflite_file(path));
    if (!model && last_error.rfind(path, 0) != 0)
      last_error = std::string(path) + ": " + last_error;
    return model;
  } catch (...) {
    fail_exception();
    return nullptr;
  }
}

qseg_model* qseg_model_load_memory(const void* data, size_t size) {
  if (!data || size == 0) {
    fail(QSEG_INVALID_ARGUMENT, "qseg_model_load_memory: no bytes (data is NULL or size is 0)");
    return nullptr;
  }
  try {
    return make_model(qseg::read_tflite(
        std::span<const uint8_t>(static_cast<const uint8_t*>(data), size), "model in memory"));
  } catch (...) {
    fail_exception();
    return nullptr;
  }
}

void qseg_model_free(qseg_model* model) { delete model; }

qseg_status qseg_model_set_threads(qseg_model* model, int num_threads) {
  if (!model) return fail(QSEG_INVALID_ARGUMENT, "qseg_model_set_threads: model is NULL");
  if (num_threads < 1 || num_threads > kMaxThreads) {
    return fail(QSEG_INVALID_ARGUMENT, "qseg_model_set_threads: the thread count must be 1 to " +
                                           std::to_string(kMaxThreads) + ", got " +
                                           std::to_string(num_threads));
  }
  if (num_threads == model->options.num_threads) return QSEG_OK;
  try {
    qseg::SegmenterOptions options = model->options;
    options.num_threads = num_threads;
    return rebuild(model, options);  // on failure the model keeps its old threads
  } catch (...) {
    return fail_exception();
  }
}

qseg_status qseg_model_set_labels_file(qseg_model* model, const char* path) {
  if (!model) return fail(QSEG_INVALID_ARGUMENT, "qseg_model_set_labels_file: model is NULL");
  try {
    qseg::SegmenterOptions options = model->options;
    options.labels_file = path ? path : "";
    return rebuild(model, options);  // on failure the model keeps its names
  } catch (...) {
    return fail_exception();
  }
}

qseg_status qseg_model_class_count(const qseg_model* model, int* count) {
  if (!model || !count)
    return fail(QSEG_INVALID_ARGUMENT, "qseg_model_class_count: a pointer is NULL");
  *count = model->segmenter->class_count();
  return QSEG_OK;
}

const char* qseg_model_class_name(const qseg_model* model, int class_id) {
  if (check_class(model, class_id, "qseg_model_class_name") != QSEG_OK) return nullptr;
  return model->segmenter->classes().name(class_id).c_str();
}

qseg_status qseg_model_class_color(const qseg_model* model, int class_id, uint8_t rgb[3]) {
  if (!rgb) return fail(QSEG_INVALID_ARGUMENT, "qseg_model_class_color: rgb is NULL");
  const qseg_status status = check_class(model, class_id, "qseg_model_class_color");
  if (status != QSEG_OK) return status;
  const qseg::Rgb& color = model->segmenter->classes().color(class_id);
  std::memcpy(rgb, color.data(), 3);
  return QSEG_OK;
}

qseg_status qseg_model_input_size(const qseg_model* model, int* width, int* height) {
  if (!model || !width || !height)
    return fail(QSEG_INVALID_ARGUMENT, "qseg_model_input_size: a pointer is NULL");
  *width = model->segmenter->input_width();
  *height = model->segmenter->input_height();
  return QSEG_OK;
}

qseg_status qseg_segment(qseg_model* model, const uint8_t* rgb, int width, int height,
                         size_t rgb_stride, uint8_t* labels, size_t labels_stride) {
  if (!model || !rgb || !labels)
    return fail(QSEG_INVALID_ARGUMENT, "qseg_segment: model, rgb or labels is NULL");
  if (width < 1 || height < 1 || width > kMaxSide || height > kMaxSide) {
    return fail(QSEG_INVALID_ARGUMENT, "qseg_segment: the image must be 1 to " +
                                           std::to_string(kMaxSide) + " pixels each way, got " +
                                           std::to_string(width) + "x" + std::to_string(height));
  }
  const size_t row_bytes = static_cast<size_t>(width) * 3;
  if (rgb_stride < row_bytes || labels_stride < static_cast<size_t>(width)) {
    return fail(QSEG_INVALID_ARGUMENT, "qseg_segment: a row stride is shorter than a row (rgb " +
                                           std::to_string(rgb_stride) + " < " +
                                           std::to_string(row_bytes) + " bytes, or labels " +
                                           std::to_string(labels_stride) + " < " +
                                           std::to_string(width) + ")");
  }
  try {
    qseg::Image photo(width, height, 3);
    for (int y = 0; y < height; ++y)
      std::memcpy(photo.row(y), rgb + static_cast<size_t>(y) * rgb_stride, row_bytes);
    auto result = model->segmenter->segment(photo);
    if (!result.is_ok()) return fail(result.status());
    const qseg::Image& out = result.value();
    for (int y = 0; y < height; ++y)
      std::memcpy(labels + static_cast<size_t>(y) * labels_stride, out.row(y),
                  static_cast<size_t>(width));
    return QSEG_OK;
  } catch (...) {
    return fail_exception();
  }
}

const char* qseg_last_error(void) { return last_error.c_str(); }

}  // extern "C"

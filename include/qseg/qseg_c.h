/* qseg's C API: load a segmentation model (.tflite), segment RGB pixels into class ids.
 *
 *   qseg_model* model = qseg_model_load_file("deeplabv3_mnv2_dm05_pascal_quant.tflite");
 *   if (!model) { fprintf(stderr, "%s\n", qseg_last_error()); return 1; }
 *   qseg_model_set_threads(model, 4);
 *   if (qseg_segment(model, rgb, width, height, width * 3, labels, width) != QSEG_OK) ...
 *   qseg_model_free(model);
 *
 * Stable: functions are only ever added (QSEG_C_API_VERSION counts the additions), never changed
 * or removed. Plain C99; the library behind it is C++ but no exception crosses this boundary.
 * Threads: a model may be used from any thread, by one thread at a time; use one model per thread
 * to segment in parallel. qseg_last_error is per thread. */
#ifndef QSEG_QSEG_C_H_
#define QSEG_QSEG_C_H_

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
#define QSEG_C_EXPORT __attribute__((visibility("default")))
#else
#define QSEG_C_EXPORT
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define QSEG_C_API_VERSION 2

typedef enum qseg_status {
  QSEG_OK = 0,
  QSEG_INVALID_ARGUMENT = 1, /* a null pointer, a bad size or stride, a thread count below 1 */
  QSEG_FAILED = 2            /* the model could not run (the message says why) */
} qseg_status;

/* A loaded model with its interpreter and working memory. */
typedef struct qseg_model qseg_model;

/* QSEG_C_API_VERSION of the library linked (may be newer than the header compiled against). */
QSEG_C_EXPORT int qseg_api_version(void);

/* A .tflite file, or its bytes (copied: `data` may be freed after the call). One interpreter
 * thread. NULL on failure: qseg_last_error() says why (missing file, not a TFLite model, an
 * unsupported op, a model that is not [1, H, W, 3] in and labels or scores out, ...). */
QSEG_C_EXPORT qseg_model* qseg_model_load_file(const char* path);
QSEG_C_EXPORT qseg_model* qseg_model_load_memory(const void* data, size_t size);

/* Frees the model; NULL is allowed. */
QSEG_C_EXPORT void qseg_model_free(qseg_model* model);

/* The threads one qseg_segment call uses (1 to 256). */
QSEG_C_EXPORT qseg_status qseg_model_set_threads(qseg_model* model, int num_threads);

/* The model's input size (513 x 513 for the published DeepLab models). Photos of any size are
 * resized to fit it, their aspect ratio kept, and the labels resized back. */
QSEG_C_EXPORT qseg_status qseg_model_input_size(const qseg_model* model, int* width, int* height);

/* Segments `width` x `height` RGB pixels (3 bytes per pixel, rows `rgb_stride` bytes apart, top
 * row first) into one class id per pixel (0 .. class count - 1; 0 background .. 20 for the PASCAL
 * VOC models), written to `labels` with rows `labels_stride` bytes apart. Both sizes at most
 * 65535. */
QSEG_C_EXPORT qseg_status qseg_segment(qseg_model* model, const uint8_t* rgb, int width, int height,
                                       size_t rgb_stride, uint8_t* labels, size_t labels_stride);

/* Since version 2: the model's classes. Their count is the model's; their names and colours come
 * from a labels file set here, else from the names the model carries (qseg convert --labels),
 * else PASCAL VOC's for 21 classes and class_N with generated colours otherwise. */

/* Names the model's classes from a labels file: one class name per line (line i names class i),
 * optionally followed by its colour as #RRGGBB. A file of another class count, or a bad line, is
 * QSEG_FAILED and the model keeps its names. NULL goes back to the model's own names. */
QSEG_C_EXPORT qseg_status qseg_model_set_labels_file(qseg_model* model, const char* path);

/* The number of classes the model tells apart (1 to 256). */
QSEG_C_EXPORT qseg_status qseg_model_class_count(const qseg_model* model, int* count);

/* The name of class `class_id` (UTF-8, NUL-terminated), valid until the model is freed or its
 * labels are set again; NULL for a bad model or class id (qseg_last_error says which). */
QSEG_C_EXPORT const char* qseg_model_class_name(const qseg_model* model, int class_id);

/* The colour of class `class_id` as red, green, blue in rgb[0..2] (what qseg draws it with). */
QSEG_C_EXPORT qseg_status qseg_model_class_color(const qseg_model* model, int class_id,
                                                 uint8_t rgb[3]);

/* The message of the last call that failed on this thread ("" when none has); valid until the
 * next failing call on this thread. */
QSEG_C_EXPORT const char* qseg_last_error(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* QSEG_QSEG_C_H_ */

/* qseg_c.h compiled as C99 (-std=c99 -pedantic -Werror in tests/CMakeLists.txt): the header
 * must stay plain C. Called from qseg_c_test.cc. */
#include "qseg/qseg_c.h"

int qseg_c_header_check(const char* missing_path) {
  qseg_model* model = qseg_model_load_file(missing_path);
  int count = 0;
  uint8_t rgb[3];
  if (model != NULL) {
    qseg_model_free(model);
    return -1;
  }
  /* Version 2's class accessors, called as C on no model: each refuses it. */
  if (qseg_model_class_count(model, &count) != QSEG_INVALID_ARGUMENT ||
      qseg_model_class_name(model, 0) != NULL ||
      qseg_model_class_color(model, 0, rgb) != QSEG_INVALID_ARGUMENT ||
      qseg_model_set_labels_file(model, missing_path) != QSEG_INVALID_ARGUMENT) {
    return -2;
  }
  return qseg_api_version();
}

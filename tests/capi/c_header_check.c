/* qseg_c.h compiled as C99 (-std=c99 -pedantic -Werror in tests/CMakeLists.txt): the header
 * must stay plain C. Called from qseg_c_test.cc. */
#include "qseg/qseg_c.h"

int qseg_c_header_check(const char* missing_path) {
  qseg_model* model = qseg_model_load_file(missing_path);
  if (model != NULL) {
    qseg_model_free(model);
    return -1;
  }
  return qseg_api_version();
}

// Forwarding to the runtime's reader and qseg_imageio.
#include "train/support/files.h"

#include "imgproc/image_io.h"
#include "qseg/tflite.h"

namespace qseg::train {

Result<Graph> read_tflite_graph(const std::filesystem::path& path) {
  return read_tflite_file(path);
}
Result<Image> read_photo(const std::filesystem::path& path) { return read_image(path); }
Result<Image> read_labels(const std::filesystem::path& path) { return read_label_image(path); }
Status write_labels_png(const std::filesystem::path& path, const Image& labels) {
  return write_label_png(path, labels);
}

}  // namespace qseg::train

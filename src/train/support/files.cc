// Forwarding to the runtime's reader and qseg_imageio.
#include "train/support/files.h"

#include "imgproc/image_io.h"
#include "qseg/tflite.h"

namespace qseg::train {

Result<Graph> read_tflite_graph(const std::filesystem::path& path, const ModelLimits& limits) {
  return read_tflite_file(path, limits);
}
Result<Image> read_photo(const std::filesystem::path& path, const ImageLimits& limits) {
  return read_image(path, limits);
}
Result<Image> read_labels(const std::filesystem::path& path, const ImageLimits& limits) {
  return read_label_image(path, limits);
}
Status write_labels_png(const std::filesystem::path& path, const Image& labels) {
  return write_label_png(path, labels);
}

}  // namespace qseg::train

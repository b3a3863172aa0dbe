// File access for the libtorch side of training, behind a header without C++20 (libtorch
// translation units are C++17): .tflite models and photos, as the runtime and qseg_imageio
// read them.
#pragma once

#include <filesystem>

#include "qseg/graph.h"
#include "qseg/image.h"
#include "qseg/limits.h"
#include "qseg/status.h"

namespace qseg::train {

Result<Graph> read_tflite_graph(const std::filesystem::path& path,
                                const ModelLimits& limits = {});
Result<Image> read_photo(const std::filesystem::path& path,
                         const ImageLimits& limits = {});  // 3-channel RGB
Result<Image> read_labels(const std::filesystem::path& path,
                          const ImageLimits& limits = {});  // 1 channel of class ids
Status write_labels_png(const std::filesystem::path& path, const Image& labels);

}  // namespace qseg::train

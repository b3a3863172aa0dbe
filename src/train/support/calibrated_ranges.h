// Activation ranges for the start of quantization-aware training, measured as post-training
// quantization measures them (convert::calibrate): the checkpoint exported to its frozen float
// graph, run in qseg's interpreter on photos, each activation's min and max given back by the
// checkpoint scope it belongs to ("aspp0/act_quant", "expanded_conv_1/add_quant", ...). So QAT's
// first quantized step starts where PTQ of the same weights ends, not from one batch's min/max.
//
// Header kept C++17 (it is included by libtorch translation units).
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "model/checkpoint_file.h"
#include "qseg/limits.h"
#include "qseg/status.h"

namespace qseg::train {

struct RangeCalibrationOptions {
  std::vector<std::filesystem::path> photos;  // resized to fit the model's input, as PTQ does
  int num_threads = 1;
  ImageLimits image_limits;
};

// Scope -> [min, max] for every activation range of `checkpoint`'s model; `name` is for errors.
Result<std::map<std::string, std::pair<float, float>>> calibrated_ranges(
    const model::CheckpointFile& checkpoint, const std::string& name,
    const RangeCalibrationOptions& options);

// `count` photos spread evenly over `photos` (all of them when there are fewer): what a run
// calibrates on, whichever roots the training photos come from.
std::vector<std::filesystem::path> spread_photos(const std::vector<std::filesystem::path>& photos,
                                                 int count);

}  // namespace qseg::train

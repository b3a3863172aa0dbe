// Calibrated starting ranges for quantization-aware training (see calibrated_ranges.h).
#include "train/support/calibrated_ranges.h"

#include "convert/calibrate.h"
#include "convert/convert.h"

namespace qseg::train {

Result<std::map<std::string, std::pair<float, float>>> calibrated_ranges(
    const model::CheckpointFile& checkpoint, const std::string& name,
    const RangeCalibrationOptions& options) {
  if (options.photos.empty()) return Status::error("range calibration needs at least one photo");
  QSEG_ASSIGN_OR_RETURN(convert::FrozenGraph frozen,
                        convert::export_checkpoint(checkpoint, name, convert::ExportOptions{}));
  convert::CalibrationOptions calibration;
  calibration.photos = options.photos;
  calibration.num_threads = options.num_threads;
  calibration.image_limits = options.image_limits;
  // Each photo's min and max, averaged over the photos: where the training's moving averages of
  // the batches' min and max settle, so they take over without drifting (the min and max over
  // all photos, PTQ's default, is set by the rarest photo and makes the grids coarser).
  calibration.method = convert::CalibrationMethod::kPercentile;
  calibration.percentile = 100;
  QSEG_RETURN_IF_ERROR(convert::calibrate(&frozen, calibration));
  std::map<std::string, std::pair<float, float>> ranges;
  for (const auto& [tensor, scope] : frozen.range_scopes) {
    const std::optional<quant::FloatRange>& r = frozen.ranges[tensor];
    if (r) ranges[scope] = {r->min, r->max};
  }
  return ranges;
}

std::vector<std::filesystem::path> spread_photos(const std::vector<std::filesystem::path>& photos,
                                                 int count) {
  if (count <= 0) return {};
  if (static_cast<size_t>(count) >= photos.size()) return photos;
  std::vector<std::filesystem::path> picked;
  for (int i = 0; i < count; ++i) {
    picked.push_back(photos[static_cast<size_t>(i) * photos.size() / static_cast<size_t>(count)]);
  }
  return picked;
}

}  // namespace qseg::train

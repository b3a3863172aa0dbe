// The functions of libtorch code (qseg_train) that the qseg commands reference, for the fuzz
// build: the real ones train, import and run training checkpoints in libtorch, which no fuzz
// target links. They are only reached from an action, and the fuzz targets run none.
#include "train/checkpoint_segmenter.h"
#include "train/import_tflite.h"
#include "train/trainer.h"

namespace qseg {
namespace train {

namespace {
Status no_libtorch() { return Status::error("libtorch is not available in the fuzz build"); }
}  // namespace

Status validate(const TrainOptions&) { return no_libtorch(); }
Result<TrainSummary> train(const TrainOptions&) { return no_libtorch(); }
Result<ImportReport> import_tflite(const ImportOptions&) { return no_libtorch(); }
Result<SegmentationScores> evaluate_checkpoint(const std::filesystem::path&,
                                               const std::vector<TrainingSample>&,
                                               const CheckpointSegmenterOptions&,
                                               const std::function<void(int, int)>&,
                                               const ImageLimits&) {
  return no_libtorch();
}

}  // namespace train
}  // namespace qseg

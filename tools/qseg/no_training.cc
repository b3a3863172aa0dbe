// qseg's side of the checkpoint opener: training checkpoints run in qseg-train (training_tool.h),
// which eval and compare hand them to before opening any model, so this is never reached there.
#include "eval_shared.h"

namespace qseg::cli {

Result<std::unique_ptr<PhotoModel>> open_checkpoint_model(const std::filesystem::path& path,
                                                          const CheckpointRunOptions&) {
  return Status::error(path.string() + ": a training checkpoint runs in libtorch, in qseg-train");
}

}  // namespace qseg::cli

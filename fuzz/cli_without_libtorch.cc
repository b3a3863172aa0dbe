// The two functions of tools/qseg/checkpoint_model.cc that `qseg eval` and `qseg compare`
// reference, for the fuzz build: the real ones run training checkpoints in libtorch, which no
// fuzz target links. They are only reached from an action, and the fuzz targets run none.
#include "eval_shared.h"

namespace qseg::cli {

Result<ModelOpener> model_opener(const std::string&, const std::string&, const InputLimits&) {
  return Status::error("training checkpoints are not available in the fuzz build");
}

bool is_checkpoint_file(const std::filesystem::path&) { return false; }

}  // namespace qseg::cli

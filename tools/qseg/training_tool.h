// The libtorch commands live in a second executable, qseg-train, beside qseg: qseg hands it the
// whole command line (exec, same process), so that the runtime commands never load libtorch.
//
// qseg-train holds every command (train, launch, import, and eval / compare of training
// checkpoints, which run in libtorch); qseg holds the rest and forwards: `qseg train ...` becomes
// `qseg-train train ...` in the same process (same pid, signals, exit code).
#pragma once

#include <string_view>

#include "qseg/status.h"

namespace qseg::cli {

// The commands only qseg-train has, with the descriptions both executables show in --help.
inline constexpr std::string_view kImportDescription =
    "Import a DeepLab .tflite (float or uint8) as a training checkpoint";
inline constexpr std::string_view kTrainDescription =
    "Train DeepLab (float or quantization-aware) with libtorch";
inline constexpr std::string_view kLaunchDescription =
    "Data-parallel training on this machine: qseg launch --nproc N train FLAGS... runs N "
    "replicas of qseg train (--batch-size per replica)";
bool is_training_command(std::string_view name);  // import, train, launch

// Called first by main: the command line to forward, and whether this is qseg-train.
void set_command_line(int argc, char** argv, bool training_tool);
bool is_training_tool();

// In qseg: replaces this process with qseg-train on the same command line. Returns only on
// failure (qseg-train missing beside this executable, or exec failing), with the reason.
Status run_training_tool();

}  // namespace qseg::cli

// What training shows and leaves behind: the progress line, the CSV log (one row per step) and
// the loss curve as an SVG plot.
//
// Header kept C++17 (it is included by libtorch translation units).
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "qseg/status.h"

namespace qseg::train {

struct StepRecord {
  int64_t step = 0;  // 1-based: the number of updates done
  double loss = 0;
  double learning_rate = 0;
  double images_per_second = 0;
  double seconds = 0;  // since the start of this run
  bool quantized = false;
};

// train_log.csv: "step,loss,learning_rate,images_per_second,seconds,quantized". Opening keeps
// the rows of steps up to first_step (from an earlier run being resumed) and drops the rest: rows
// of steps after the checkpoint, and a row a kill cut short. That rewrite replaces the file
// atomically, so a kill or a full disk while opening leaves the old log whole.
class TrainingLog {
 public:
  static Result<TrainingLog> open(const std::filesystem::path& path, int64_t first_step);
  TrainingLog(TrainingLog&& other) noexcept;
  TrainingLog& operator=(TrainingLog&& other) noexcept;
  ~TrainingLog();

  Status append(const StepRecord& record);  // written through at once
  // Flushes the rows to disk. Called before each checkpoint, so that a checkpoint of step N that
  // survives a power cut comes with rows 1..N.
  Status sync();
  const std::vector<StepRecord>& records() const { return records_; }

 private:
  TrainingLog() = default;
  std::filesystem::path path_;
  std::FILE* file_ = nullptr;
  std::vector<StepRecord> records_;
};

// The loss per step (light) and its moving average over `window` steps (bold), with axes.
Status write_loss_svg(const std::filesystem::path& path, const std::vector<StepRecord>& records,
                      const std::string& title, int window = 20);

// "step 120/2000 [#####.............] 6% loss 0.532 lr 2.91e-05 3.2 img/s ETA 1:23:45"
std::string progress_line(int64_t step, int64_t steps, double loss, double learning_rate,
                          double images_per_second, double eta_seconds);
std::string format_duration(double seconds);  // "1:23:45", "4:05"

}  // namespace qseg::train

// CSV log, SVG loss plot and progress line of a training run.
#include "train/support/training_log.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "train/model_names.h"

namespace qseg::train {

namespace {

constexpr const char* kLogHeader = "step,loss,learning_rate,images_per_second,seconds,quantized\n";

std::string format_row(const StepRecord& r) {
  char row[256];
  const int n = std::snprintf(row, sizeof row, "%ld,%.6f,%.6g,%.3f,%.2f,%d\n", r.step, r.loss,
                              r.learning_rate, r.images_per_second, r.seconds, r.quantized ? 1 : 0);
  return std::string(row, static_cast<size_t>(std::clamp(n, 0, int{sizeof row} - 1)));
}

}  // namespace

Result<TrainingLog> TrainingLog::open(const std::filesystem::path& path, int64_t first_step) {
  TrainingLog log;
  log.path_ = path;
  std::string kept = kLogHeader;
  if (std::ifstream in(path); in) {
    std::string line;
    std::getline(in, line);  // header
    // A row a kill cut short lacks its newline and is dropped; it can only be the last row, of a
    // step after the checkpoint (rows up to the checkpoint's step were flushed before it).
    while (std::getline(in, line) && !in.eof()) {
      StepRecord r;
      int quantized = 0;
      if (std::sscanf(line.c_str(), "%ld,%lf,%lf,%lf,%lf,%d", &r.step, &r.loss, &r.learning_rate,
                      &r.images_per_second, &r.seconds, &quantized) != 6) {
        continue;
      }
      r.quantized = quantized != 0;
      if (r.step > first_step) continue;
      log.records_.push_back(r);
      kept += line + "\n";  // as it was: no rounding twice
    }
  }
  QSEG_RETURN_IF_ERROR(
      replace_file_durably(path, reinterpret_cast<const uint8_t*>(kept.data()), kept.size()));
  log.file_ = std::fopen(path.c_str(), "a");
  if (!log.file_)
    return Status::error("cannot write " + path.string() + ": " + std::strerror(errno));
  return log;
}

TrainingLog::TrainingLog(TrainingLog&& other) noexcept
    : path_(std::move(other.path_)), file_(other.file_), records_(std::move(other.records_)) {
  other.file_ = nullptr;
}

TrainingLog& TrainingLog::operator=(TrainingLog&& other) noexcept {
  if (this != &other) {
    if (file_) std::fclose(file_);
    path_ = std::move(other.path_);
    file_ = other.file_;
    records_ = std::move(other.records_);
    other.file_ = nullptr;
  }
  return *this;
}

TrainingLog::~TrainingLog() {
  if (file_) std::fclose(file_);
}

Status TrainingLog::append(const StepRecord& r) {
  records_.push_back(r);
  const std::string row = format_row(r);
  if (std::fwrite(row.data(), 1, row.size(), file_) != row.size() || std::fflush(file_) != 0) {
    return Status::error("cannot write " + path_.string() + ": " + std::strerror(errno));
  }
  return Status::ok();
}

Status TrainingLog::sync() {
  if (std::fflush(file_) != 0 || ::fsync(::fileno(file_)) != 0)
    return Status::error("cannot write " + path_.string() + ": " + std::strerror(errno));
  return Status::ok();
}

Status write_loss_svg(const std::filesystem::path& path, const std::vector<StepRecord>& records,
                      const std::string& title, int window) {
  constexpr double kWidth = 800, kHeight = 450, kLeft = 70, kRight = 20, kTop = 40, kBottom = 50;
  std::ostringstream svg;
  svg << fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n",
      kWidth, kHeight);
  svg << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  svg << fmt::format("<text x=\"{}\" y=\"24\" font-size=\"15\">{}</text>\n", kLeft, title);
  if (!records.empty()) {
    const double x0 = static_cast<double>(records.front().step),
                 x1 = std::max(x0 + 1, double(records.back().step));
    double y1 = 0;
    for (const StepRecord& r : records) {
      if (std::isfinite(r.loss)) y1 = std::max(y1, r.loss);
    }
    y1 = y1 > 0 ? y1 * 1.05 : 1.0;
    auto px = [&](double step) {
      return kLeft + (step - x0) / (x1 - x0) * (kWidth - kLeft - kRight);
    };
    auto py = [&](double loss) {
      return kHeight - kBottom - loss / y1 * (kHeight - kTop - kBottom);
    };
    // Axes and ticks.
    svg << fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"black\"/>\n",
                       kLeft, kHeight - kBottom, kWidth - kRight);
    svg << fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"black\"/>\n",
                       kLeft, kTop, kHeight - kBottom);
    for (int i = 0; i <= 5; ++i) {
      const double step = x0 + (x1 - x0) * i / 5, loss = y1 * i / 5;
      svg << fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{:.0f}</text>\n",
                         px(step), kHeight - kBottom + 18, step);
      svg << fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{:.3g}</text>\n",
                         kLeft - 6, py(loss) + 4, loss);
      svg << fmt::format(
          "<line x1=\"{0}\" y1=\"{1:.1f}\" x2=\"{2}\" y2=\"{1:.1f}\" stroke=\"#ddd\"/>\n", kLeft,
          py(loss), kWidth - kRight);
    }
    svg << fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">step</text>\n",
                       (kLeft + kWidth) / 2, kHeight - 10);
    svg << fmt::format(
        "<text x=\"16\" y=\"{}\" transform=\"rotate(-90 16 {})\" text-anchor=\"middle\">"
        "cross-entropy loss</text>\n",
        (kTop + kHeight - kBottom) / 2, (kTop + kHeight - kBottom) / 2);
    std::string raw, smooth;
    double sum = 0;
    for (size_t i = 0; i < records.size(); ++i) {
      const double loss = std::isfinite(records[i].loss) ? records[i].loss : y1;
      raw += fmt::format("{:.1f},{:.1f} ", px(records[i].step), py(loss));
      sum += loss;
      if (i >= static_cast<size_t>(window))
        sum -= std::isfinite(records[i - window].loss) ? records[i - window].loss : y1;
      const double mean = sum / static_cast<double>(std::min<size_t>(i + 1, window));
      smooth += fmt::format("{:.1f},{:.1f} ", px(records[i].step), py(mean));
    }
    svg << "<polyline fill=\"none\" stroke=\"#9cc3e6\" stroke-width=\"1\" points=\"" << raw
        << "\"/>\n";
    svg << "<polyline fill=\"none\" stroke=\"#1f5fa8\" stroke-width=\"2.5\" points=\"" << smooth
        << "\"/>\n";
    svg << fmt::format("<text x=\"{}\" y=\"{}\" fill=\"#1f5fa8\">mean of {} steps</text>\n",
                       kWidth - 170, kTop + 4, window);
  }
  svg << "</svg>\n";
  // Replaced like the checkpoint (and under a fixed temporary name, so that a write cut short
  // by a kill leaves no litter behind once the next one succeeds).
  const std::string text = svg.str();
  return replace_file_durably(path, reinterpret_cast<const uint8_t*>(text.data()), text.size());
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto total = static_cast<int64_t>(seconds + 0.5);
  const int64_t h = total / 3600, m = total / 60 % 60, s = total % 60;
  return h > 0 ? fmt::format("{}:{:02}:{:02}", h, m, s) : fmt::format("{}:{:02}", m, s);
}

std::string progress_line(int64_t step, int64_t steps, double loss, double learning_rate,
                          double images_per_second, double eta_seconds) {
  constexpr int kBar = 20;
  const double fraction = steps > 0 ? std::clamp(static_cast<double>(step) / steps, 0.0, 1.0) : 1.0;
  const int filled = static_cast<int>(fraction * kBar);
  return fmt::format("step {}/{} [{}{}] {:3.0f}% loss {:.4f} lr {:.3g} {:.2f} img/s ETA {}", step,
                     steps, std::string(filled, '#'), std::string(kBar - filled, '.'),
                     fraction * 100, loss, learning_rate, images_per_second,
                     format_duration(eta_seconds));
}

}  // namespace qseg::train

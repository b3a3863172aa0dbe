// The HTML report of an evaluation or comparison: one self-contained file (inline CSS, photos as
// data: URIs, no scripts, no network) with the summary table, per-class IoU bars, the confusion
// matrix as a heat map, and overlays of the best and worst photos (and, with two models, the
// photos where they disagree most).
//
// Usage:
//   options.keep_masks = true;  // the report draws the stored predictions
//   QSEG_ASSIGN_OR_RETURN(EvalResult result, evaluate(models, samples, options));
//   QSEG_RETURN_IF_ERROR(write_html_report("report.html", result, {.title = "qseg eval"}));
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "eval/evaluator.h"
#include "eval/results_json.h"

namespace qseg {

struct ReportOptions {
  std::string title = "qseg evaluation";
  DatasetDescription data;
  int photos_per_section = 3;  // best, worst, most disagreeing
  ImageLimits image_limits;    // for reading the photos again (as the evaluation read them)
  int thumbnail_width =
      320;  // overlays are downscaled to fit a square of this side (never upscaled)
};

// The report as HTML text. The photos and labels are read again from the samples' files and the
// predictions come from PhotoModelResult::mask_png (overlays are left out when it is empty).
Result<std::string> html_report(const EvalResult& result, const ReportOptions& options);
// html_report written atomically to `path`.
Status write_html_report(const std::filesystem::path& path, const EvalResult& result,
                         const ReportOptions& options);

// The error map of a prediction: right (kErrorMapRight), wrong (kErrorMapWrong) and unscored
// pixels (label == ignore_label: kErrorMapVoid), RGB at the labels' size; empty on bad input.
inline constexpr Rgb kErrorMapRight{46, 160, 67}, kErrorMapWrong{214, 39, 40},
    kErrorMapVoid{160, 160, 160};
Image error_map(const Image& prediction, const Image& labels, int ignore_label);

// Text for HTML content or attribute values: & < > " ' escaped.
std::string html_escape(std::string_view text);
// Standard base64 (RFC 4648, with padding).
std::string base64_encode(std::span<const uint8_t> bytes);

}  // namespace qseg

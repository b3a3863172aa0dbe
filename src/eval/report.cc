// The self-contained HTML report: tables and bars as HTML/CSS, overlays as data: URI PNGs
// (the photo parts are in report_photos.cc).
#include "eval/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "eval/report_photos.h"
#include "imgproc/image_io.h"
#include "imgproc/image_ops.h"
#include "qseg/segmenter.h"

namespace qseg {
namespace {

constexpr std::string_view kStyle = R"(
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; background: #fff; max-width: 1400px; }
h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 32px; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; }
th, td { padding: 3px 8px; text-align: left; }
table.summary th, table.summary td { border: 1px solid #ccc; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.meta { color: #555; }
.bar { display: inline-block; height: 12px; vertical-align: middle; }
.bar0 { background: #3b6fb6; } .bar1 { background: #e08a2e; }
.track { display: inline-block; width: 300px; background: #eee; margin-right: 6px; }
.up { color: #1a7f37; } .down { color: #c62828; }
table.heat { font-size: 11px; margin-bottom: 16px; }
table.heat td { width: 26px; height: 22px; text-align: center; border: 1px solid #fff; padding: 0; }
table.heat th { font-weight: normal; padding: 0 4px; text-align: right; }
table.heat th.axis { font-weight: bold; text-align: left; }
table.heat th.column { vertical-align: bottom; height: 90px; padding: 0; }
table.heat th.column span { writing-mode: vertical-rl; transform: rotate(180deg); white-space: nowrap; }
table.photos-table td { font-size: 12px; padding: 1px 6px; }
.photos { display: flex; flex-wrap: wrap; gap: 8px; margin-bottom: 18px; }
figure { margin: 0; } figure img { display: block; border: 1px solid #ccc; }
figcaption { font-size: 12px; color: #444; }
.photo-title { font-weight: bold; margin: 12px 0 4px; }
.swatch { display: inline-block; width: 12px; height: 12px; margin: 0 4px 0 10px; vertical-align: middle; border: 1px solid #999; }
)";

using report::model_label;
using report::percent;

std::string color_css(const std::array<uint8_t, 3>& rgb) {
  return fmt::format("rgb({},{},{})", rgb[0], rgb[1], rgb[2]);
}

void append_summary(const EvalResult& result, std::string* html) {
  // The A / B column only when there are two models to tell apart.
  const bool two = result.models.size() >= 2;
  *html += fmt::format(
      "<h2 id=\"summary\">Summary</h2>\n<table class=\"summary\"><tr>{}<th>model</th><th>input</th>"
      "<th>photos scored</th><th>mIoU</th><th>classes in mIoU</th><th>pixel accuracy</th>"
      "<th>ms per photo</th></tr>\n",
      two ? "<th>run</th>" : "");
  for (size_t m = 0; m < result.models.size(); ++m) {
    const ModelInfo& info = result.models[m];
    const ConfusionMatrix& c = result.confusion[m];
    *html += fmt::format(
        "<tr>{}<td>{}</td><td>{}x{} {}</td><td class=\"num\">{}</td><td "
        "class=\"num\"><b>{}</b></td>"
        "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{:.0f}</td></tr>\n",
        two ? "<td>" + model_label(result, m) + "</td>" : "",
        html_escape(info.path.filename().string()), info.input_width, info.input_height,
        html_escape(info.input_type), result.scored_count, percent(c.mean_iou()),
        c.present_class_count(), percent(c.pixel_accuracy()),
        result.mean_model_ms(static_cast<int>(m)));
  }
  *html += "</table>\n";
  if (two) {
    const double difference = result.confusion[1].mean_iou() - result.confusion[0].mean_iou();
    *html += fmt::format(
        "<p>mIoU B &minus; A: <b>{:+.2f} points</b>. Pixel agreement between A and B: <b>{}</b> of "
        "{} "
        "pixels (all pixels of the scored photos).</p>\n",
        100.0 * difference, percent(result.agreement()), result.compared_pixels);
  }
  *html += fmt::format(
      "<p class=\"meta\">{} photos listed, {} scored, {} bad (skipped); {:.1f} s with {} threads, "
      "{:.2f} photos/s.</p>\n",
      result.photos.size(), result.scored_count, result.bad_count, result.seconds,
      result.num_threads, result.photos_per_second());
}

void append_class_bars(const EvalResult& result, std::string* html) {
  const bool two = result.models.size() >= 2;
  *html +=
      "<h2 id=\"per-class\">Per-class IoU</h2>\n<p class=\"meta\">Label pixels: scored pixels "
      "of the class in the labels; predicted: scored pixels predicted as it; false positives: "
      "predicted as it, labelled otherwise; false negatives: labelled as it, predicted "
      "otherwise.</p>\n<table class=\"bars per-class\"><tr><th>class</th><th>IoU</th>";
  if (two) *html += "<th>B &minus; A</th>";
  *html += "<th>label pixels</th>";
  for (size_t m = 0; m < result.models.size(); ++m) {
    std::string l;
    if (two) l = " " + model_label(result, m);
    *html += fmt::format(
        "<th>predicted{0}</th><th>false positives{0}</th><th>false negatives{0}</th>", l);
  }
  *html += "</tr>\n";
  for (int c = 0; c < result.classes.size(); ++c) {
    *html += fmt::format("<tr><td>{}</td><td>", html_escape(result.classes.name(c)));
    for (size_t m = 0; m < result.models.size(); ++m) {
      const auto iou = result.confusion[m].iou(c);
      const double width = iou ? 300.0 * *iou : 0.0;
      *html += fmt::format(
          "<div><span class=\"track\"><span class=\"bar bar{}\" "
          "style=\"width:{:.1f}px\"></span></span>"
          "{} {}</div>",
          m % 2, width, model_label(result, m), iou ? percent(*iou) : "&mdash; (absent)");
    }
    *html += "</td>";
    if (two) {
      const auto a = result.confusion[0].iou(c), b = result.confusion[1].iou(c);
      if (a && b) {
        const double d = 100.0 * (*b - *a);
        *html += fmt::format("<td class=\"num {}\">{:+.2f}</td>", d < 0 ? "down" : "up", d);
      } else {
        *html += "<td class=\"num\">&mdash;</td>";
      }
    }
    *html += fmt::format("<td class=\"num\">{}</td>", result.confusion[0].label_pixels(c));
    for (const ConfusionMatrix& confusion : result.confusion) {
      const int64_t tp = confusion.count(c, c);
      *html +=
          fmt::format("<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>",
                      confusion.predicted_pixels(c), confusion.predicted_pixels(c) - tp,
                      confusion.label_pixels(c) - tp);
    }
    *html += "</tr>\n";
  }
  *html += "</table>\n";
}

// Rows are labels, columns predictions; each row is normalized so the diagonal reads as recall.
// Sets of more than kHeatMapAllClasses classes show only the classes present, so that a 150-class
// matrix stays readable (and the file small).
constexpr int kHeatMapAllClasses = 40;

void append_heat_map(const ConfusionMatrix& confusion, const ClassSet& classes,
                     const std::string& heading, std::string* html) {
  std::vector<int> shown;
  for (int c = 0; c < confusion.class_count(); ++c) {
    if (confusion.class_count() <= kHeatMapAllClasses || confusion.present(c)) shown.push_back(c);
  }
  const std::string only_present = static_cast<int>(shown.size()) < confusion.class_count()
                                       ? fmt::format(" ({} of the {} classes: those present)",
                                                     shown.size(), confusion.class_count())
                                       : "";
  *html += fmt::format(
      "<h3>{}{}</h3>\n<table class=\"heat\"><tr><th></th><th class=\"axis\" "
      "colspan=\"{}\">predicted class &#8594;</th></tr>\n<tr><th class=\"axis\">ground truth "
      "&#8595;</th>",
      html_escape(heading), only_present, shown.size());
  for (int p : shown)
    *html += fmt::format("<th class=\"column\" title=\"{0}\"><span>{0}</span></th>",
                         html_escape(classes.name(p)));
  *html += "</tr>\n";
  for (int l : shown) {
    const int64_t row_total = confusion.label_pixels(l);
    *html += fmt::format("<tr><th>{}</th>", html_escape(classes.name(l)));
    for (int p : shown) {
      const int64_t count = confusion.count(l, p);
      const double f =
          row_total > 0 ? static_cast<double>(count) / static_cast<double>(row_total) : 0.0;
      // White to dark blue; the square root makes small confusions visible.
      const double t = std::sqrt(f);
      const int r = static_cast<int>(std::lround(255 - 225 * t)),
                g = static_cast<int>(std::lround(255 - 185 * t)),
                b = static_cast<int>(std::lround(255 - 95 * t));
      const std::string text = f >= 0.01 ? fmt::format("{:.0f}", 100.0 * f) : "";
      *html += fmt::format(
          "<td style=\"background:rgb({},{},{});color:{}\" title=\"label {} predicted as {}: {} "
          "pixels ({:.2f}% of "
          "the {} labelled {})\">{}</td>",
          r, g, b, t > 0.6 ? "#fff" : "#222", html_escape(classes.name(l)),
          html_escape(classes.name(p)), count, 100.0 * f, row_total, html_escape(classes.name(l)),
          text);
    }
    *html += "</tr>\n";
  }
  *html += "</table>\n";
}

void append_legend(const ClassSet& classes, std::string* html) {
  *html += "<p class=\"meta\" id=\"key\">Colours:";
  bool black = false;  // classes drawn as the photo (see overlay)
  for (int c = 0; c < classes.size(); ++c) {
    if (classes.color(c) == Rgb{0, 0, 0}) {
      black = true;
      continue;
    }
    *html += fmt::format("<span class=\"swatch\" style=\"background:{}\"></span>{}",
                         color_css(classes.color(c)), html_escape(classes.name(c)));
  }
  *html += fmt::format(
      ". Overlays outline each region and list its classes in the corner. Error maps: "
      "<span class=\"swatch\" style=\"background:{}\"></span>right "
      "<span class=\"swatch\" style=\"background:{}\"></span>wrong "
      "<span class=\"swatch\" style=\"background:{}\"></span>void (not scored)",
      color_css(kErrorMapRight), color_css(kErrorMapWrong), color_css(kErrorMapVoid));
  *html += classes == ClassSet::voc()
               ? ". Background and void pixels show the photo.</p>\n"
               : (black ? ". Classes coloured black and ignored pixels show the photo.</p>\n"
                        : ". Ignored pixels show the photo.</p>\n");
}

bool has_masks(const EvalResult& result) {
  for (const PhotoResult& photo : result.photos) {
    if (!photo.bad) return !photo.models.empty() && !photo.models[0].mask_png.empty();
  }
  return false;
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string base64_encode(std::span<const uint8_t> bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = (uint32_t{bytes[i]} << 16) | (uint32_t{bytes[i + 1]} << 8) | bytes[i + 2];
    for (int shift : {18, 12, 6, 0}) out += kAlphabet[(v >> shift) & 63];
  }
  const size_t rest = bytes.size() - i;
  if (rest > 0) {
    const uint32_t v = (uint32_t{bytes[i]} << 16) | (rest == 2 ? uint32_t{bytes[i + 1]} << 8 : 0);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

Result<std::string> html_report(const EvalResult& result, const ReportOptions& options) {
  if (result.models.empty() || result.confusion.size() != result.models.size()) {
    return Status::error("the report needs a finished evaluation");
  }
  std::string html = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta "
      "charset=\"utf-8\">\n<title>{}</title>\n<style>{}</style>\n"
      "</head>\n<body>\n<h1>{}</h1>\n",
      html_escape(options.title), kStyle, html_escape(options.title));
  html += fmt::format("<p class=\"meta\">Data: {} &middot; split: {}</p>\n",
                      html_escape(options.data.root.string()),
                      html_escape(options.data.split.string()));
  html += fmt::format(
      "<p class=\"meta\" id=\"miou-convention\">How mIoU is counted: one confusion matrix is "
      "accumulated over all scored photos (not a mean of per-photo scores); each class's IoU is "
      "TP / (TP + FP + FN) from it; mIoU is the mean over the classes present in the labels or the "
      "predictions; classes with no label pixel and no predicted pixel are left out of the mean; "
      "{}.</p>\n",
      result.ignore_label >= 0
          ? fmt::format("pixels labelled {} (void / ignore) are not scored, whatever is predicted "
                        "there",
                        result.ignore_label)
          : std::string("every pixel is scored (no ignore label)"));
  append_summary(result, &html);
  append_class_bars(result, &html);
  html +=
      "<h2 id=\"confusion\">Confusion matrix</h2>\n<p class=\"meta\">Rows are the ground truth "
      "class, columns the predicted class; each row is normalized (numbers: percent of the row, "
      "so the diagonal is the recall); hover a cell for its pixel count.</p>\n";
  for (size_t m = 0; m < result.models.size(); ++m) {
    const std::string label = model_label(result, m);
    append_heat_map(result.confusion[m], result.classes,
                    (label.empty() ? "" : label + ": ") + result.models[m].path.filename().string(),
                    &html);
  }
  report::append_photo_table(result, &html);
  if (has_masks(result)) {
    html += "<h2 id=\"photos\">Photos</h2>\n";
    append_legend(result.classes, &html);
    const int n = options.photos_per_section;
    const bool two = result.models.size() >= 2;
    const std::string by = two ? " (by the mean of A's and B's photo mIoU)" : " (by photo mIoU)";
    std::set<int> shown;
    if (two) {
      QSEG_RETURN_IF_ERROR(report::append_photo_section(result, "Where A and B disagree most",
                                                        most_disagreeing_photos(result, n), options,
                                                        &shown, &html));
    }
    const int model = two ? -1 : 0;
    QSEG_RETURN_IF_ERROR(report::append_photo_section(
        result, "Best photos" + by, best_photos(result, model, n), options, &shown, &html));
    QSEG_RETURN_IF_ERROR(report::append_photo_section(
        result, "Worst photos" + by, worst_photos(result, model, n), options, &shown, &html));
  }
  if (result.bad_count > 0) {
    html += fmt::format("<h2 id=\"bad\">Bad samples ({}, skipped)</h2>\n<ul>\n", result.bad_count);
    for (const PhotoResult& photo : result.photos) {
      if (photo.bad)
        html += fmt::format("<li><b>{}</b>: {}</li>\n", html_escape(photo.name),
                            html_escape(photo.error));
    }
    html += "</ul>\n";
  }
  html += "</body>\n</html>\n";
  return html;
}

Status write_html_report(const std::filesystem::path& path, const EvalResult& result,
                         const ReportOptions& options) {
  QSEG_ASSIGN_OR_RETURN(std::string html, html_report(result, options));
  return write_file_atomically(
      path, std::span(reinterpret_cast<const uint8_t*>(html.data()), html.size()));
}

}  // namespace qseg

// The self-contained HTML report: tables and bars as HTML/CSS, overlays as data: URI PNGs.
#include "eval/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

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
table.heat th { font-weight: normal; padding: 0 4px; }
.photos { display: flex; flex-wrap: wrap; gap: 8px; margin-bottom: 18px; }
figure { margin: 0; } figure img { display: block; border: 1px solid #ccc; }
figcaption { font-size: 12px; color: #444; }
.photo-title { font-weight: bold; margin: 12px 0 4px; }
.swatch { display: inline-block; width: 12px; height: 12px; margin: 0 4px 0 10px; vertical-align: middle; border: 1px solid #999; }
)";

std::string percent(double fraction) { return fmt::format("{:.2f}%", 100.0 * fraction); }

std::string model_label(const EvalResult& result, size_t m) {
  if (result.models.size() == 1) return "";
  return std::string(1, static_cast<char>('A' + m));
}

std::string color_css(const std::array<uint8_t, 3>& rgb) {
  return fmt::format("rgb({},{},{})", rgb[0], rgb[1], rgb[2]);
}

void append_summary(const EvalResult& result, std::string* html) {
  *html +=
      "<h2>Summary</h2>\n<table "
      "class=\"summary\"><tr><th></th><th>model</th><th>input</th><th>photos scored</th>"
      "<th>mIoU</th><th>classes in mIoU</th><th>pixel accuracy</th><th>ms per photo</th></tr>\n";
  for (size_t m = 0; m < result.models.size(); ++m) {
    const ModelInfo& info = result.models[m];
    const ConfusionMatrix& c = result.confusion[m];
    *html += fmt::format(
        "<tr><td>{}</td><td>{}</td><td>{}x{} {}</td><td class=\"num\">{}</td><td "
        "class=\"num\"><b>{}</b></td>"
        "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{:.0f}</td></tr>\n",
        model_label(result, m), html_escape(info.path.filename().string()), info.input_width,
        info.input_height, html_escape(info.input_type), result.scored_count, percent(c.mean_iou()),
        c.present_class_count(), percent(c.pixel_accuracy()),
        result.mean_model_ms(static_cast<int>(m)));
  }
  *html += "</table>\n";
  if (result.models.size() >= 2) {
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
  *html += "<h2>Per-class IoU</h2>\n<table class=\"bars\"><tr><th>class</th><th>IoU</th>";
  *html += two ? "<th>B &minus; A</th>" : "<th>label pixels</th>";
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
    } else {
      *html += fmt::format("<td class=\"num\">{}</td>", result.confusion[0].label_pixels(c));
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
      "<h3>{}{}</h3>\n<table class=\"heat\"><tr><th>label &#8595; / prediction &#8594;</th>",
      html_escape(heading), only_present);
  for (int p : shown)
    *html += fmt::format("<th title=\"{}\">{}</th>", html_escape(classes.name(p)), p);
  *html += "</tr>\n";
  for (int l : shown) {
    const int64_t row_total = confusion.label_pixels(l);
    *html += fmt::format("<tr><th>{} {}</th>", l, html_escape(classes.name(l)));
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

Result<std::string> thumbnail_uri(const Image& image, int max_width, const std::string& name) {
  Image small;
  const Image* shown = &image;
  int width = 0, height = 0;
  fit_size(image.width, image.height, max_width, max_width, &width, &height);  // portraits too
  if (width != image.width || height != image.height) {
    small = resize_bilinear(image, width, height, /*align_corners=*/false);
    shown = &small;
  }
  QSEG_ASSIGN_OR_RETURN(std::vector<uint8_t> png, encode_png(*shown, name));
  return "data:image/png;base64," + base64_encode(png);
}

std::string figure(const std::string& uri, const std::string& caption) {
  return fmt::format("<figure><img src=\"{}\" alt=\"{}\"><figcaption>{}</figcaption></figure>", uri,
                     html_escape(caption), html_escape(caption));
}

// One photo: the prediction of each model and the ground truth, overlaid on the photo.
Status append_photo(const EvalResult& result, int index, const ReportOptions& options,
                    std::string* html) {
  const int thumbnail_width = options.thumbnail_width;
  const PhotoResult& photo = result.photos[index];
  QSEG_ASSIGN_OR_RETURN(LoadedSample sample,
                        load_sample(result.samples[index], options.image_limits,
                                    LabelCheck{result.classes.size(), result.ignore_label}));
  std::string title = photo.name + ":";
  for (size_t m = 0; m < photo.models.size(); ++m) {
    const ConfusionMatrix& c = photo.models[m].confusion;
    const std::string label = model_label(result, m);
    title += fmt::format("{} {}mIoU {}, pixel accuracy {}", m > 0 ? ";" : "",
                         label.empty() ? "" : label + " ", percent(c.mean_iou()),
                         percent(c.pixel_accuracy()));
  }
  if (photo.models.size() >= 2) title += "; agreement " + percent(photo.agreement());
  *html += fmt::format("<div class=\"photo-title\">{}</div>\n<div class=\"photos\">",
                       html_escape(title));
  for (size_t m = 0; m < photo.models.size(); ++m) {
    QSEG_ASSIGN_OR_RETURN(Image mask, decode_label_image(photo.models[m].mask_png, photo.name));
    QSEG_ASSIGN_OR_RETURN(std::string uri,
                          thumbnail_uri(overlay(sample.rgb, mask, 0.55f, result.classes),
                                        thumbnail_width, photo.name));
    const std::string who = photo.models.size() == 1
                                ? "prediction"
                                : "prediction " + model_label(result, m) + " (" +
                                      result.models[m].path.filename().string() + ")";
    *html += figure(uri, who);
  }
  QSEG_ASSIGN_OR_RETURN(std::string truth_uri,
                        thumbnail_uri(overlay(sample.rgb, sample.labels, 0.55f, result.classes),
                                      thumbnail_width, photo.name));
  *html += figure(truth_uri, "ground truth") + "</div>\n";
  return Status::ok();
}

// A photo already drawn in an earlier section is only named, to keep the file small.
Status append_photo_section(const EvalResult& result, const std::string& heading,
                            const std::vector<int>& indices, const ReportOptions& options,
                            std::set<int>* shown, std::string* html) {
  if (indices.empty()) return Status::ok();
  *html += fmt::format("<h2>{}</h2>\n", html_escape(heading));
  for (int i : indices) {
    if (!shown->insert(i).second) {
      *html += fmt::format("<div class=\"photo-title\">{}: shown above</div>\n",
                           html_escape(result.photos[i].name));
      continue;
    }
    QSEG_RETURN_IF_ERROR(append_photo(result, i, options, html));
  }
  return Status::ok();
}

void append_legend(const ClassSet& classes, std::string* html) {
  *html += "<p class=\"meta\">Colours:";
  bool black = false;  // classes drawn as the photo (see overlay)
  for (int c = 0; c < classes.size(); ++c) {
    if (classes.color(c) == Rgb{0, 0, 0}) {
      black = true;
      continue;
    }
    *html += fmt::format("<span class=\"swatch\" style=\"background:{}\"></span>{}",
                         color_css(classes.color(c)), html_escape(classes.name(c)));
  }
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
  html +=
      "<p class=\"meta\">mIoU is the mean IoU (TP / (TP + FP + FN), one confusion matrix over all "
      "scored photos) "
      "over the classes present in the labels or the predictions; void (255) pixels are not "
      "scored.</p>\n";
  append_summary(result, &html);
  append_class_bars(result, &html);
  html +=
      "<h2>Confusion matrix</h2>\n<p class=\"meta\">Rows are labels, columns predictions; each row "
      "is normalized "
      "(numbers: percent of the row); hover a cell for its pixel count.</p>\n";
  for (size_t m = 0; m < result.models.size(); ++m) {
    const std::string label = model_label(result, m);
    append_heat_map(result.confusion[m], result.classes,
                    (label.empty() ? "" : label + ": ") + result.models[m].path.filename().string(),
                    &html);
  }
  if (has_masks(result)) {
    append_legend(result.classes, &html);
    const int n = options.photos_per_section;
    const bool two = result.models.size() >= 2;
    const std::string by = two ? " (by the mean of A's and B's photo mIoU)" : " (by photo mIoU)";
    std::set<int> shown;
    if (two) {
      QSEG_RETURN_IF_ERROR(append_photo_section(result, "Where A and B disagree most",
                                                most_disagreeing_photos(result, n), options, &shown,
                                                &html));
    }
    const int model = two ? -1 : 0;
    QSEG_RETURN_IF_ERROR(append_photo_section(
        result, "Best photos" + by, best_photos(result, model, n), options, &shown, &html));
    QSEG_RETURN_IF_ERROR(append_photo_section(
        result, "Worst photos" + by, worst_photos(result, model, n), options, &shown, &html));
  }
  if (result.bad_count > 0) {
    html += fmt::format("<h2>Bad samples ({}, skipped)</h2>\n<ul>\n", result.bad_count);
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

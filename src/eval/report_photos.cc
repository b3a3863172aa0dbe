// The report's per-photo table, overlays and error maps (see report_photos.h).
#include "eval/report_photos.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "imgproc/annotated_overlay.h"
#include "imgproc/image_io.h"
#include "imgproc/image_ops.h"
#include "qseg/segmenter.h"

namespace qseg {

Image error_map(const Image& prediction, const Image& labels, int ignore_label) {
  if (prediction.channels != 1 || labels.channels != 1 || prediction.width != labels.width ||
      prediction.height != labels.height || prediction.pixels.size() != labels.pixels.size()) {
    return {};
  }
  Image out(labels.width, labels.height, 3);
  for (size_t i = 0; i < labels.pixels.size(); ++i) {
    const Rgb& colour = labels.pixels[i] == ignore_label           ? kErrorMapVoid
                        : labels.pixels[i] == prediction.pixels[i] ? kErrorMapRight
                                                                   : kErrorMapWrong;
    std::copy(colour.begin(), colour.end(), &out.pixels[i * 3]);
  }
  return out;
}

namespace report {

std::string percent(double fraction) { return fmt::format("{:.2f}%", 100.0 * fraction); }

std::string model_label(const EvalResult& result, size_t m) {
  if (result.models.size() == 1) return "";
  return std::string(1, static_cast<char>('A' + m));
}

std::string classes_present(const ConfusionMatrix& photo, const ClassSet& classes) {
  std::string text;
  for (int c = 0; c < photo.class_count() && c < classes.size(); ++c) {
    if (photo.label_pixels(c) == 0) continue;
    if (!text.empty()) text += ", ";
    text += classes.name(c);
  }
  return text;
}

void append_photo_table(const EvalResult& result, std::string* html) {
  std::vector<int> order;
  for (size_t i = 0; i < result.photos.size(); ++i) {
    if (!result.photos[i].bad && !result.photos[i].models.empty())
      order.push_back(static_cast<int>(i));
  }
  const auto miou = [&](int i) { return result.photos[i].models[0].confusion.mean_iou(); };
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return miou(a) < miou(b); });
  const bool two = result.models.size() >= 2;
  *html += fmt::format(
      "<h2 id=\"per-photo\">All photos ({}), worst mIoU first</h2>\n<p class=\"meta\">mIoU and "
      "pixel accuracy of each photo alone{}; classes present: in its labels.</p>\n"
      "<table class=\"summary photos-table\"><tr><th>photo</th><th>mIoU{}</th><th>pixel "
      "accuracy{}</th>{}<th>classes present</th></tr>\n",
      order.size(), two ? " (of A; B beside it)" : "", two ? " A" : "", two ? " A" : "",
      two ? "<th>mIoU B</th>" : "");
  for (const int i : order) {
    const PhotoResult& photo = result.photos[i];
    const ConfusionMatrix& a = photo.models[0].confusion;
    *html += fmt::format(
        "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>{}<td>{}</td></tr>\n",
        html_escape(photo.name), percent(a.mean_iou()), percent(a.pixel_accuracy()),
        two && photo.models.size() >= 2 ? fmt::format("<td class=\"num\">{}</td>",
                                                      percent(photo.models[1].confusion.mean_iou()))
                                        : "",
        html_escape(classes_present(a, result.classes)));
  }
  *html += "</table>\n";
}

namespace {

// Photo and labels at thumbnail size (bilinear for the photo, nearest for class ids), so that
// the overlay's outlines and legend are drawn at the size they are seen.
struct Thumbnail {
  int width = 0, height = 0;
  Image fit(const Image& image, bool labels) const {
    if (image.width == width && image.height == height) return image;
    return labels ? resize_nearest(image, width, height, /*align_corners=*/false)
                  : resize_bilinear(image, width, height, /*align_corners=*/false);
  }
};

Result<std::string> png_uri(const Image& image, const std::string& name) {
  QSEG_ASSIGN_OR_RETURN(std::vector<uint8_t> png, encode_png(image, name));
  return "data:image/png;base64," + base64_encode(png);
}

std::string figure(const std::string& uri, const std::string& caption) {
  return fmt::format("<figure><img src=\"{}\" alt=\"{}\"><figcaption>{}</figcaption></figure>", uri,
                     html_escape(caption), html_escape(caption));
}

// One photo: each model's prediction overlaid and its error map, and the ground truth.
Status append_photo(const EvalResult& result, int index, const ReportOptions& options,
                    std::string* html) {
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
  title += "; classes present: " + classes_present(photo.models[0].confusion, result.classes);
  *html += fmt::format("<div class=\"photo-title\">{}</div>\n<div class=\"photos\">",
                       html_escape(title));
  Thumbnail thumb;
  fit_size(sample.rgb.width, sample.rgb.height, options.thumbnail_width, options.thumbnail_width,
           &thumb.width, &thumb.height);
  const Image rgb = thumb.fit(sample.rgb, false);
  const Image truth = thumb.fit(sample.labels, true);
  const OverlayOptions drawing;  // as `qseg segment` draws by default
  for (size_t m = 0; m < photo.models.size(); ++m) {
    QSEG_ASSIGN_OR_RETURN(Image full_mask,
                          decode_label_image(photo.models[m].mask_png, photo.name));
    const Image mask = thumb.fit(full_mask, true);
    const std::string who = photo.models.size() == 1
                                ? "prediction"
                                : "prediction " + model_label(result, m) + " (" +
                                      result.models[m].path.filename().string() + ")";
    QSEG_ASSIGN_OR_RETURN(
        std::string uri,
        png_uri(annotated_overlay(rgb, mask, result.classes, drawing), photo.name));
    *html += figure(uri, who);
    QSEG_ASSIGN_OR_RETURN(std::string errors,
                          png_uri(error_map(mask, truth, result.ignore_label), photo.name));
    std::string caption = "errors";
    if (photo.models.size() > 1) caption += " " + model_label(result, m);
    *html += figure(errors, caption);
  }
  QSEG_ASSIGN_OR_RETURN(
      std::string truth_uri,
      png_uri(annotated_overlay(rgb, truth, result.classes, drawing), photo.name));
  *html += figure(truth_uri, "ground truth") + "</div>\n";
  return Status::ok();
}

}  // namespace

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

}  // namespace report
}  // namespace qseg

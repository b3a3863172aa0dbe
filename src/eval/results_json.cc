// JSON for evaluation and comparison results.
#include "eval/results_json.h"

#include <cstdio>

namespace qseg {
namespace {

using nlohmann::json;

json optional_number(const std::optional<double>& value) {
  return value ? json(*value) : json(nullptr);
}

// How many photos were listed, scored and skipped, and which were skipped and why.
void add_photo_counts(const EvalResult& result, const DatasetDescription& data, json* out) {
  (*out)["data"] = data.root.string();
  (*out)["split"] = data.split.string();
  (*out)["photos"] = {
      {"listed", result.photos.size()}, {"scored", result.scored_count}, {"bad", result.bad_count}};
  json bad = json::array();
  for (const PhotoResult& photo : result.photos) {
    if (photo.bad) bad.push_back({{"name", photo.name}, {"error", photo.error}});
  }
  (*out)["bad_samples"] = std::move(bad);
}

json model_json(const ModelInfo& model) {
  return {
      {"model", model.path.string()},
      {"input",
       {{"width", model.input_width}, {"height", model.input_height}, {"type", model.input_type}}},
      {"output", model.outputs_labels ? "labels" : "scores"}};
}

json timing_json(const EvalResult& result) {
  json timing = {{"threads", result.num_threads},
                 {"seconds", result.seconds},
                 {"photos_per_second", result.photos_per_second()}};
  json per_model = json::array();
  for (size_t m = 0; m < result.models.size(); ++m)
    per_model.push_back(result.mean_model_ms(static_cast<int>(m)));
  timing["mean_segment_ms"] = std::move(per_model);
  return timing;
}

json names(const EvalResult& result, const std::vector<int>& indices) {
  json list = json::array();
  for (int i : indices) list.push_back(result.photos[i].name);
  return list;
}

}  // namespace

static std::string color_text(const Rgb& color) {
  char text[8];
  std::snprintf(text, sizeof(text), "#%02X%02X%02X", color[0], color[1], color[2]);
  return text;
}

json scores_json(const ConfusionMatrix& confusion, const ClassSet& class_set) {
  json classes = json::array();
  const int count = confusion.class_count();
  for (int c = 0; c < count; ++c) {
    classes.push_back({{"id", c},
                       {"name", c < class_set.size() ? class_set.name(c) : ""},
                       {"color", color_text(class_set.palette()[c])},
                       {"iou", optional_number(confusion.iou(c))},
                       {"present", confusion.present(c)},
                       {"label_pixels", confusion.label_pixels(c)},
                       {"predicted_pixels", confusion.predicted_pixels(c)},
                       {"true_positives", confusion.count(c, c)}});
  }
  json counts = json::array();
  for (int l = 0; l < count; ++l) {
    json row = json::array();
    for (int p = 0; p < count; ++p) row.push_back(confusion.count(l, p));
    counts.push_back(std::move(row));
  }
  return {
      {"miou", confusion.mean_iou()},
      {"miou_over", "classes present in labels or predictions"},
      {"present_classes", confusion.present_class_count()},
      {"pixel_accuracy", confusion.pixel_accuracy()},
      {"scored_pixels", confusion.total_pixels()},
      {"correct_pixels", confusion.correct_pixels()},
      {"class_count", count},
      {"ignore_label",
       confusion.ignore_label() >= 0 ? json(confusion.ignore_label()) : json(nullptr)},
      {"classes", std::move(classes)},
      {"confusion", {{"rows", "label"}, {"columns", "prediction"}, {"counts", std::move(counts)}}}};
}

json eval_json(const EvalResult& result, const DatasetDescription& data) {
  json out = {{"command", "eval"}};
  out.update(model_json(result.models.at(0)));
  add_photo_counts(result, data, &out);
  out.update(scores_json(result.confusion.at(0), result.classes));
  json per_photo = json::array();
  for (const PhotoResult& photo : result.photos) {
    if (photo.bad) continue;
    const ConfusionMatrix& c = photo.models[0].confusion;
    per_photo.push_back({{"name", photo.name},
                         {"width", photo.width},
                         {"height", photo.height},
                         {"miou", c.mean_iou()},
                         {"pixel_accuracy", c.pixel_accuracy()},
                         {"scored_pixels", c.total_pixels()}});
  }
  out["per_photo"] = std::move(per_photo);
  out["best_photos"] = names(result, best_photos(result, 0, 5));
  out["worst_photos"] = names(result, worst_photos(result, 0, 5));
  out["timing"] = timing_json(result);
  return out;
}

json compare_json(const EvalResult& result, const DatasetDescription& data) {
  json out = {{"command", "compare"}};
  add_photo_counts(result, data, &out);
  json models = json::array();
  for (size_t m = 0; m < result.models.size(); ++m) {
    json model = model_json(result.models[m]);
    model.update(scores_json(result.confusion[m], result.classes));
    models.push_back(std::move(model));
  }
  out["models"] = std::move(models);
  const ConfusionMatrix& a = result.confusion.at(0);
  const ConfusionMatrix& b = result.confusion.at(1);
  out["miou_difference"] = b.mean_iou() - a.mean_iou();
  out["pixel_accuracy_difference"] = b.pixel_accuracy() - a.pixel_accuracy();
  json differences = json::array();
  for (int c = 0; c < a.class_count(); ++c) {
    const auto iou_a = a.iou(c), iou_b = b.iou(c);
    differences.push_back({{"id", c},
                           {"name", result.classes.name(c)},
                           {"iou_a", optional_number(iou_a)},
                           {"iou_b", optional_number(iou_b)},
                           {"b_minus_a", iou_a && iou_b ? json(*iou_b - *iou_a) : json(nullptr)}});
  }
  out["per_class_difference"] = std::move(differences);
  out["agreement"] = {{"pixels", result.compared_pixels},
                      {"agreeing_pixels", result.agreeing_pixels},
                      {"fraction", result.agreement()},
                      {"over", "all pixels of the scored photos, void included"}};
  json per_photo = json::array();
  for (const PhotoResult& photo : result.photos) {
    if (photo.bad) continue;
    per_photo.push_back({{"name", photo.name},
                         {"width", photo.width},
                         {"height", photo.height},
                         {"miou_a", photo.models[0].confusion.mean_iou()},
                         {"miou_b", photo.models[1].confusion.mean_iou()},
                         {"agreement", photo.agreement()}});
  }
  out["per_photo"] = std::move(per_photo);
  out["most_disagreeing"] = names(result, most_disagreeing_photos(result, 5));
  out["timing"] = timing_json(result);
  return out;
}

}  // namespace qseg

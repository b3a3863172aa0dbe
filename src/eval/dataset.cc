// Datasets in the VOC, Cityscapes and ADE20K layouts: reading splits and loading validated samples.
#include "eval/dataset.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

#include "imgproc/image_io.h"

namespace qseg {
namespace {

std::string trim(const std::string& text) {
  size_t begin = 0, end = text.size();
  while (begin < end && std::isspace(static_cast<unsigned char>(text[begin]))) ++begin;
  while (end > begin && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
  return text.substr(begin, end - begin);
}

// Why `name` cannot be a photo name, or an empty string when it can. Names become file names
// under the root, so nothing may lead outside JPEGImages/ and SegmentationClass/.
std::string name_problem(const std::string& name) {
  if (name.find('/') != std::string::npos || name.find('\\') != std::string::npos)
    return "contains a path separator";
  if (name.find("..") != std::string::npos) return "contains \"..\"";
  for (char c : name) {
    if (std::isspace(static_cast<unsigned char>(c)))
      return "contains whitespace (one name per line)";
    if (static_cast<unsigned char>(c) < 0x20) return "contains a control character";
  }
  return "";
}

// ADE20K's split folders are "training" and "validation"; "train" and "val" name them too.
std::string ade20k_split(const std::filesystem::path& split) {
  if (split == "train") return "training";
  if (split == "val") return "validation";
  return split.string();
}

std::filesystem::path photo_folder(const DatasetSource& source) {
  if (source.kind == DatasetKind::kCityscapes) return source.root / "leftImg8bit" / source.split;
  return source.root / "images" / ade20k_split(source.split);
}

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The samples of a Cityscapes or ADE20K split: every photo under the split's folder (Cityscapes:
// one folder per city), in path order so that runs are repeatable.
Result<std::vector<Sample>> read_folder_split(const DatasetSource& source) {
  const std::filesystem::path folder = photo_folder(source);
  std::error_code ec;
  if (!std::filesystem::is_directory(folder, ec)) {
    return Status::error(
        folder.string() + ": not a folder (" + dataset_kind_name(source.kind) + " splits are " +
        (source.kind == DatasetKind::kCityscapes ? "train, val, test" : "training, validation") +
        ")");
  }
  const bool cityscapes = source.kind == DatasetKind::kCityscapes;
  const std::string photo_suffix = cityscapes ? "_leftImg8bit.png" : ".jpg";
  std::vector<std::filesystem::path> photos;
  for (auto it = std::filesystem::recursive_directory_iterator(folder, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec) && ends_with(it->path().filename().string(), photo_suffix))
      photos.push_back(it->path());
  }
  if (ec) return Status::error(folder.string() + ": cannot list the folder: " + ec.message());
  std::sort(photos.begin(), photos.end());
  std::vector<Sample> samples;
  for (const std::filesystem::path& photo : photos) {
    const std::string file = photo.filename().string();
    const std::string name = file.substr(0, file.size() - photo_suffix.size());
    // The photo's folder under the split's (Cityscapes' city; none for ADE20K).
    const std::filesystem::path relative = photo.parent_path().lexically_relative(folder);
    std::filesystem::path label_folder =
        cityscapes ? source.root / "gtFine" / source.split
                   : source.root / "annotations" / ade20k_split(source.split);
    if (relative != ".") label_folder /= relative;
    const std::filesystem::path label =
        label_folder / (cityscapes ? name + "_gtFine_labelIds.png" : name + ".png");
    samples.push_back({name, photo, label, source.label_map, source.kind});
  }
  if (samples.empty()) {
    return Status::error(folder.string() + ": the split holds no photos (*" + photo_suffix + ")");
  }
  return samples;
}

}  // namespace

Result<std::filesystem::path> resolve_split_path(const DatasetSource& source) {
  std::error_code ec;
  if (source.kind != DatasetKind::kVoc) {
    const std::filesystem::path folder = photo_folder(source);
    if (std::filesystem::is_directory(folder, ec)) return folder;
    return Status::error(folder.string() + ": not a folder");
  }
  if (std::filesystem::is_regular_file(source.split, ec)) return source.split;
  if (source.split.is_relative()) {
    const auto in_root = source.root / "ImageSets" / "Segmentation" / source.split;
    if (std::filesystem::is_regular_file(in_root, ec)) return in_root;
    return Status::error("split file not found: " + source.split.string() + " (also tried " +
                         in_root.string() + ")");
  }
  return Status::error("split file not found: " + source.split.string());
}

Result<std::vector<Sample>> read_samples(const DatasetSource& source) {
  std::error_code ec;
  if (!std::filesystem::is_directory(source.root, ec)) {
    return Status::error("dataset root is not a folder: " + source.root.string());
  }
  if (source.kind != DatasetKind::kVoc) return read_folder_split(source);
  QSEG_ASSIGN_OR_RETURN(const std::filesystem::path split_path, resolve_split_path(source));
  std::ifstream in(split_path);
  if (!in) return Status::error("cannot open split file " + split_path.string());
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status::error("cannot read split file " + split_path.string());
  QSEG_ASSIGN_OR_RETURN(std::vector<Sample> samples,
                        parse_split(text.str(), source.root, split_path));
  for (Sample& sample : samples) {
    sample.label_map = source.label_map;
    sample.kind = source.kind;
  }
  return samples;
}

Result<std::vector<Sample>> parse_split(std::string_view text, const std::filesystem::path& root,
                                        const std::filesystem::path& split_path) {
  std::istringstream in{std::string(text)};
  std::vector<Sample> samples;
  std::set<std::string> seen;
  std::string line;
  int line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    const std::string name = trim(line);
    if (name.empty()) continue;
    const std::string where = split_path.string() + ":" + std::to_string(line_number);
    if (const std::string problem = name_problem(name); !problem.empty()) {
      return Status::error(where + ": photo name \"" + name + "\" " + problem);
    }
    if (!seen.insert(name).second)
      return Status::error(where + ": photo name \"" + name + "\" is listed twice");
    samples.push_back({name, root / "JPEGImages" / (name + ".jpg"),
                       root / "SegmentationClass" / (name + ".png"), nullptr, DatasetKind::kVoc});
  }
  if (samples.empty()) return Status::error(split_path.string() + ": the split lists no photos");
  return samples;
}

Result<std::vector<Sample>> read_samples(std::span<const DatasetSource> sources) {
  if (sources.empty()) return Status::error("no dataset given");
  std::vector<Sample> all;
  for (const DatasetSource& source : sources) {
    QSEG_ASSIGN_OR_RETURN(std::vector<Sample> samples, read_samples(source));
    all.insert(all.end(), std::make_move_iterator(samples.begin()),
               std::make_move_iterator(samples.end()));
  }
  return all;
}

namespace {

// "is not a class id (0..20) or 255": what a label value should have been.
std::string expected_values(const LabelCheck& check) {
  std::string text = "is not a class id (0.." + std::to_string(check.class_count - 1) + ")";
  if (check.ignore_label >= 0) text += " or " + std::to_string(check.ignore_label);
  return text;
}

Status bad_value(const std::filesystem::path& label_path, int value, size_t index, int width,
                 const LabelCheck& check) {
  const size_t x = index % static_cast<size_t>(width), y = index / static_cast<size_t>(width);
  return Status::error(label_path.string() + ": label value " + std::to_string(value) + " at (" +
                       std::to_string(x) + ", " + std::to_string(y) + ") " +
                       expected_values(check));
}

Status check_size(int label_width, int label_height, int width, int height,
                  const std::filesystem::path& label_path,
                  const std::filesystem::path& photo_path) {
  if (label_width == width && label_height == height) return Status::ok();
  return Status::error(label_path.string() + ": label is " + std::to_string(label_width) + "x" +
                       std::to_string(label_height) + " but the photo " + photo_path.string() +
                       " is " + std::to_string(width) + "x" + std::to_string(height));
}

// The label values of `sample` as classes (see load_sample): the kind's meaning, the label map,
// then values over 255 are errors (check_labels does the rest).
Result<Image> labels_as_classes(LabelValues values, const Sample& sample, const LabelCheck& check) {
  const std::string path = sample.label_path.string();
  if (sample.kind != DatasetKind::kVoc) {
    const int ignore = check.ignore_label >= 0 ? check.ignore_label : 255;
    for (uint16_t& v : values.values)
      v = static_cast<uint16_t>(dataset_class(sample.kind, v, ignore));
  }
  Image labels(values.width, values.height, 1);
  if (sample.label_map) {
    QSEG_RETURN_IF_ERROR(
        sample.label_map->apply(values.values, values.width, path, &labels.pixels));
    return labels;
  }
  for (size_t i = 0; i < values.values.size(); ++i) {
    if (values.values[i] > 255) {
      return bad_value(sample.label_path, values.values[i], i, values.width, check);
    }
    labels.pixels[i] = static_cast<uint8_t>(values.values[i]);
  }
  return labels;
}

}  // namespace

Status check_labels(const Image& labels, int width, int height,
                    const std::filesystem::path& label_path,
                    const std::filesystem::path& photo_path, const LabelCheck& check) {
  if (labels.channels != 1)
    return Status::error(label_path.string() + ": a label map must have 1 channel");
  QSEG_RETURN_IF_ERROR(
      check_size(labels.width, labels.height, width, height, label_path, photo_path));
  for (size_t i = 0; i < labels.pixels.size(); ++i) {
    const int value = labels.pixels[i];
    if (value < check.class_count || value == check.ignore_label) continue;
    return bad_value(label_path, value, i, labels.width, check);
  }
  return Status::ok();
}

Result<LoadedSample> load_sample(const Sample& sample, const ImageLimits& limits,
                                 const LabelCheck& check, int box_width, int box_height) {
  // A missing file is the commonest problem with a partial dataset: say it in those words.
  std::error_code ec;
  if (!std::filesystem::exists(sample.photo_path, ec)) {
    return Status::error(sample.photo_path.string() + ": photo not found (\"" + sample.name +
                         "\" is in the split)");
  }
  if (!std::filesystem::exists(sample.label_path, ec)) {
    return Status::error(sample.label_path.string() + ": label not found (\"" + sample.name +
                         "\" is in the split)");
  }
  LoadedSample loaded;
  QSEG_ASSIGN_OR_RETURN(DecodedPhoto photo,
                        read_photo_for_box(sample.photo_path, box_width, box_height, limits));
  loaded.rgb = std::move(photo.image);
  loaded.width = photo.width;
  loaded.height = photo.height;
  QSEG_ASSIGN_OR_RETURN(LabelValues values, read_label_values(sample.label_path, limits));
  // The size first: a label of the wrong size is that, whatever its values.
  QSEG_RETURN_IF_ERROR(check_size(values.width, values.height, loaded.width, loaded.height,
                                  sample.label_path, sample.photo_path));
  QSEG_ASSIGN_OR_RETURN(loaded.labels, labels_as_classes(std::move(values), sample, check));
  QSEG_RETURN_IF_ERROR(check_labels(loaded.labels, loaded.width, loaded.height, sample.label_path,
                                    sample.photo_path, check));
  return loaded;
}

}  // namespace qseg

// VOC-layout datasets: reading split files and loading validated samples.
#include "eval/dataset.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

#include "imgproc/image_io.h"
#include "qseg/voc_classes.h"

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

}  // namespace

Result<std::filesystem::path> resolve_split_path(const DatasetSource& source) {
  std::error_code ec;
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
  QSEG_ASSIGN_OR_RETURN(const std::filesystem::path split_path, resolve_split_path(source));
  std::ifstream in(split_path);
  if (!in) return Status::error("cannot open split file " + split_path.string());
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status::error("cannot read split file " + split_path.string());
  QSEG_ASSIGN_OR_RETURN(std::vector<Sample> samples,
                        parse_split(text.str(), source.root, split_path));
  for (Sample& sample : samples) sample.label_map = source.label_map;
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
                       root / "SegmentationClass" / (name + ".png"), nullptr});
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

Status check_labels(const Image& labels, int width, int height,
                    const std::filesystem::path& label_path,
                    const std::filesystem::path& photo_path) {
  if (labels.channels != 1)
    return Status::error(label_path.string() + ": a label map must have 1 channel");
  if (labels.width != width || labels.height != height) {
    return Status::error(label_path.string() + ": label is " + std::to_string(labels.width) + "x" +
                         std::to_string(labels.height) + " but the photo " + photo_path.string() +
                         " is " + std::to_string(width) + "x" + std::to_string(height));
  }
  for (int y = 0; y < labels.height; ++y) {
    const uint8_t* row = labels.row(y);
    for (int x = 0; x < labels.width; ++x) {
      if (row[x] < kVocClassCount || row[x] == kVocIgnoreLabel) continue;
      return Status::error(label_path.string() + ": label value " + std::to_string(row[x]) +
                           " at (" + std::to_string(x) + ", " + std::to_string(y) +
                           ") is not a class id (0.." + std::to_string(kVocClassCount - 1) +
                           ") or " + std::to_string(kVocIgnoreLabel));
    }
  }
  return Status::ok();
}

Result<LoadedSample> load_sample(const Sample& sample, const ImageLimits& limits) {
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
  QSEG_ASSIGN_OR_RETURN(loaded.rgb, read_image(sample.photo_path, limits));
  QSEG_ASSIGN_OR_RETURN(loaded.labels, read_label_image(sample.label_path, limits));
  if (sample.label_map) {
    QSEG_RETURN_IF_ERROR(sample.label_map->apply(&loaded.labels.pixels, loaded.labels.width,
                                                 sample.label_path.string()));
  }
  QSEG_RETURN_IF_ERROR(check_labels(loaded.labels, loaded.rgb.width, loaded.rgb.height,
                                    sample.label_path, sample.photo_path));
  return loaded;
}

}  // namespace qseg

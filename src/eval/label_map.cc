// Label maps: parsing "FROM=TO" lists (from a flag or a file) and applying them to label values.
#include "eval/label_map.h"

#include <cctype>
#include <fstream>
#include <sstream>

namespace qseg {
namespace {

std::string trim(const std::string& text) {
  size_t begin = 0, end = text.size();
  while (begin < end && std::isspace(static_cast<unsigned char>(text[begin]))) ++begin;
  while (end > begin && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
  return text.substr(begin, end - begin);
}

// A decimal number in [0, max], or -1.
int parse_number(const std::string& text, int max) {
  if (text.empty() || text.size() > 6) return -1;
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return -1;
    value = value * 10 + (c - '0');
  }
  return value <= max ? value : -1;
}

// Cityscapes' labelIds 0..33 -> train ids (cityscapesScripts' labels.py); -1: not trained on.
constexpr int kCityscapesTrainIds[34] = {-1, -1, -1, -1, -1, -1, -1, 0,  1,  -1, -1, 2,
                                         3,  4,  -1, -1, -1, 5,  -1, 6,  7,  8,  9,  10,
                                         11, 12, 13, 14, 15, -1, -1, 16, 17, 18};

}  // namespace

Result<DatasetKind> parse_dataset_kind(const std::string& name) {
  if (name == "voc") return DatasetKind::kVoc;
  if (name == "cityscapes") return DatasetKind::kCityscapes;
  if (name == "ade20k") return DatasetKind::kAde20k;
  return Status::error("--dataset must be voc, cityscapes or ade20k, got '" + name + "'");
}

const char* dataset_kind_name(DatasetKind kind) {
  switch (kind) {
    case DatasetKind::kCityscapes:
      return "cityscapes";
    case DatasetKind::kAde20k:
      return "ade20k";
    case DatasetKind::kVoc:
      break;
  }
  return "voc";
}

int dataset_class(DatasetKind kind, int value, int ignore_label) {
  switch (kind) {
    case DatasetKind::kCityscapes: {
      const int train_id = value >= 0 && value < 34 ? kCityscapesTrainIds[value] : -1;
      return train_id >= 0 ? train_id : ignore_label;
    }
    case DatasetKind::kAde20k:
      return value == 0 ? ignore_label : value - 1;
    case DatasetKind::kVoc:
      break;
  }
  return value;
}

Status LabelMap::add_entry(const std::string& raw, const std::string& where, bool* has_default,
                           std::vector<bool>* listed) {
  const std::string entry = trim(raw);
  const size_t equals = entry.find('=');
  if (equals == std::string::npos) {
    return Status::error(where + ": entry \"" + entry + "\" is not FROM=TO");
  }
  const std::string from = trim(entry.substr(0, equals));
  const std::string to_text = trim(entry.substr(equals + 1));
  const int to = parse_number(to_text, kMaxClass);
  if (to < 0) {
    return Status::error(where + ": entry \"" + entry + "\": the class \"" + to_text +
                         "\" is not a number in 0.." + std::to_string(kMaxClass));
  }
  if (from == "*") {
    if (*has_default) return Status::error(where + ": \"*\" is listed twice");
    *has_default = true;
    for (int v = 0; v <= kMaxValue; ++v) {
      if (!(*listed)[v]) table_[v] = static_cast<int16_t>(to);
    }
    return Status::ok();
  }
  const int value = parse_number(from, kMaxValue);
  if (value < 0) {
    return Status::error(where + ": entry \"" + entry + "\": the label value \"" + from +
                         "\" is not \"*\" or a number in 0.." + std::to_string(kMaxValue));
  }
  if ((*listed)[value]) {
    return Status::error(where + ": the label value " + std::to_string(value) + " is listed twice");
  }
  (*listed)[value] = true;
  table_[value] = static_cast<int16_t>(to);
  return Status::ok();
}

Result<LabelMap> LabelMap::parse(const std::string& spec) {
  if (!spec.empty() && spec[0] == '@') {
    const std::string path = spec.substr(1);
    std::ifstream in(path);
    if (!in) return Status::error("--label-map: cannot open " + path);
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) return Status::error("--label-map: cannot read " + path);
    return parse_file_text(text.str(), path);
  }
  LabelMap map;
  map.source_ = "--label-map " + spec;
  bool has_default = false;
  std::vector<bool> listed(kMaxValue + 1, false);
  std::istringstream in(spec);
  std::string entry;
  int entries = 0;
  while (std::getline(in, entry, ',')) {
    QSEG_RETURN_IF_ERROR(map.add_entry(entry, "--label-map", &has_default, &listed));
    ++entries;
  }
  if (entries == 0) return Status::error("--label-map: no FROM=TO entry given");
  return map;
}

Result<LabelMap> LabelMap::parse_file_text(const std::string& text, const std::string& name) {
  LabelMap map;
  map.source_ = name;
  bool has_default = false;
  std::vector<bool> listed(kMaxValue + 1, false);
  std::istringstream in(text);
  std::string line;
  int line_number = 0, entries = 0;
  while (std::getline(in, line)) {
    ++line_number;
    const std::string entry = trim(line);
    if (entry.empty() || entry[0] == '#') continue;
    QSEG_RETURN_IF_ERROR(
        map.add_entry(entry, name + ":" + std::to_string(line_number), &has_default, &listed));
    ++entries;
  }
  if (entries == 0) return Status::error(name + ": the label map has no FROM=TO line");
  return map;
}

Status LabelMap::unmapped(int value, size_t index, int width, const std::string& path) const {
  const size_t x = index % static_cast<size_t>(width), y = index / static_cast<size_t>(width);
  return Status::error(path + ": label value " + std::to_string(value) + " at (" +
                       std::to_string(x) + ", " + std::to_string(y) +
                       ") has no entry in the label map " + source_);
}

Status LabelMap::apply(std::vector<uint8_t>* values, int width, const std::string& path) const {
  // Checked first, so that an error leaves the values as they were.
  for (size_t i = 0; i < values->size(); ++i) {
    if (table_[(*values)[i]] < 0) return unmapped((*values)[i], i, width, path);
  }
  for (uint8_t& v : *values) v = static_cast<uint8_t>(table_[v]);
  return Status::ok();
}

Status LabelMap::apply(const std::vector<uint16_t>& values, int width, const std::string& path,
                       std::vector<uint8_t>* out) const {
  out->resize(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    const int16_t mapped = table_[values[i]];
    if (mapped < 0) return unmapped(values[i], i, width, path);
    (*out)[i] = static_cast<uint8_t>(mapped);
  }
  return Status::ok();
}

}  // namespace qseg

// Class sets: the built-in VOC set, the generated palette, and labels files.
#include "qseg/class_set.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <sstream>

#include "imgproc/image_ops.h"

namespace qseg {
namespace {

constexpr const char* kVocNames[] = {
    "background", "aeroplane", "bicycle",     "bird",  "boat",        "bottle", "bus",
    "car",        "cat",       "chair",       "cow",   "diningtable", "dog",    "horse",
    "motorbike",  "person",    "pottedplant", "sheep", "sofa",        "train",  "tvmonitor"};
constexpr int kVocClassCount = 21;

std::string trim(std::string_view text) {
  size_t begin = 0, end = text.size();
  while (begin < end && std::isspace(static_cast<unsigned char>(text[begin]))) ++begin;
  while (end > begin && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
  return std::string(text.substr(begin, end - begin));
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// "#RRGGBB" -> colour; false when the text is not exactly that.
bool parse_color(const std::string& text, Rgb* color) {
  if (text.size() != 7 || text[0] != '#') return false;
  for (int i = 0; i < 3; ++i) {
    const int high = hex_digit(text[1 + 2 * i]), low = hex_digit(text[2 + 2 * i]);
    if (high < 0 || low < 0) return false;
    (*color)[i] = static_cast<uint8_t>(high * 16 + low);
  }
  return true;
}

std::string color_text(const Rgb& color) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string text = "#";
  for (uint8_t v : color) {
    text += kHex[v >> 4];
    text += kHex[v & 15];
  }
  return text;
}

// Integer HSV -> RGB: hue in tenths of a degree [0, 3600), saturation and value in [0, 255].
Rgb hsv_to_rgb(int hue, int saturation, int value) {
  const int sector = hue / 600, within = hue % 600;  // 60-degree sectors
  const int p = value * (255 - saturation) / 255;
  const int q = value * (255 * 600 - saturation * within) / (255 * 600);
  const int t = value * (255 * 600 - saturation * (600 - within)) / (255 * 600);
  auto rgb = [](int r, int g, int b) {
    return Rgb{static_cast<uint8_t>(r), static_cast<uint8_t>(g), static_cast<uint8_t>(b)};
  };
  switch (sector) {
    case 0:
      return rgb(value, t, p);
    case 1:
      return rgb(q, value, p);
    case 2:
      return rgb(p, value, t);
    case 3:
      return rgb(p, q, value);
    case 4:
      return rgb(t, p, value);
    default:
      return rgb(value, p, q);
  }
}

}  // namespace

Rgb generated_class_color(int c) {
  if (c <= 0) return {0, 0, 0};
  // Integer arithmetic only, so every platform makes the same palette. Consecutive ids step the
  // hue by the golden angle (137.507764 degrees: no two hues of a short run are close, and the
  // sequence never repeats) and cycle through three (saturation, value) levels, which separates
  // ids whose hues come back close.
  static constexpr int kSaturation[] = {230, 140, 255};
  static constexpr int kValue[] = {255, 200, 140};
  const int step = c - 1;
  // In units of 1e-5 degrees, then tenths of a degree.
  const int hue = static_cast<int>((static_cast<int64_t>(step) * 13750776) % 36000000 / 10000);
  const int level = step % 3;
  return hsv_to_rgb(hue, kSaturation[level], kValue[level]);
}

Result<ClassSet> ClassSet::create(std::vector<std::string> names, std::vector<Rgb> colors) {
  if (names.empty()) return Status::error("a class set needs at least one class");
  if (names.size() > static_cast<size_t>(kMaxClasses)) {
    return Status::error("a class set has at most " + std::to_string(kMaxClasses) +
                         " classes, got " + std::to_string(names.size()));
  }
  if (!colors.empty() && colors.size() != names.size()) {
    return Status::error(std::to_string(colors.size()) + " colours for " +
                         std::to_string(names.size()) + " class names");
  }
  std::map<std::string, size_t> seen;
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i].empty()) return Status::error("class " + std::to_string(i) + " has no name");
    const auto [it, added] = seen.emplace(names[i], i);
    if (!added) {
      return Status::error("class name \"" + names[i] + "\" is used by classes " +
                           std::to_string(it->second) + " and " + std::to_string(i));
    }
  }
  ClassSet set;
  const ClassSet defaults = default_for(static_cast<int>(names.size()));
  set.palette_ = defaults.palette_;
  for (size_t i = 0; i < colors.size(); ++i) set.palette_[i] = colors[i];
  set.names_ = std::move(names);
  return set;
}

const ClassSet& ClassSet::voc() {
  static const ClassSet set = [] {
    ClassSet s;
    s.names_.assign(std::begin(kVocNames), std::end(kVocNames));
    s.palette_ = voc_colormap();
    return s;
  }();
  return set;
}

ClassSet ClassSet::generated(int count) {
  ClassSet s;
  count = std::clamp(count, 0, kMaxClasses);
  s.palette_ = voc_colormap();  // values beyond the classes (the ignore label) as in VOC
  for (int c = 0; c < count; ++c) {
    s.names_.push_back("class_" + std::to_string(c));
    s.palette_[static_cast<size_t>(c)] = generated_class_color(c);
  }
  return s;
}

ClassSet ClassSet::default_for(int count) {
  return count == kVocClassCount ? voc() : generated(count);
}

Result<ClassSet> ClassSet::parse(std::string_view text, const std::string& file) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    lines.push_back(trim(text.substr(start, end - start)));
    start = end + 1;
  }
  while (!lines.empty() && lines.back().empty()) lines.pop_back();  // trailing blank lines
  if (lines.empty()) return Status::error(file + ": the labels file names no class");
  if (lines.size() > static_cast<size_t>(kMaxClasses)) {
    return Status::error(file + ":" + std::to_string(kMaxClasses + 1) + ": more than " +
                         std::to_string(kMaxClasses) + " classes");
  }
  std::vector<std::string> names;
  std::vector<Rgb> colors;
  std::vector<bool> colored;
  std::map<std::string, size_t> seen;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string where = file + ":" + std::to_string(i + 1);
    std::string name = lines[i];
    Rgb color{};
    bool has_color = false;
    const size_t hash = name.find('#');
    if (hash != std::string::npos) {
      const std::string color_part = trim(std::string_view(name).substr(hash));
      if (!parse_color(color_part, &color)) {
        return Status::error(where + ": bad colour \"" + color_part +
                             "\" (a class line is NAME or NAME #RRGGBB)");
      }
      has_color = true;
      name = trim(std::string_view(name).substr(0, hash));
    }
    if (name.empty()) {
      return Status::error(where + ": empty class name (line " + std::to_string(i + 1) +
                           " names label value " + std::to_string(i) + ")");
    }
    const auto [it, added] = seen.emplace(name, i);
    if (!added) {
      return Status::error(where + ": class name \"" + name + "\" is already used on line " +
                           std::to_string(it->second + 1));
    }
    names.push_back(std::move(name));
    colors.push_back(color);
    colored.push_back(has_color);
  }
  const ClassSet defaults = default_for(static_cast<int>(names.size()));
  for (size_t i = 0; i < colors.size(); ++i) {
    if (!colored[i]) colors[i] = defaults.color(static_cast<int>(i));
  }
  return create(std::move(names), std::move(colors));
}

Result<ClassSet> ClassSet::read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::error("cannot open labels file " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status::error("cannot read labels file " + path.string());
  return parse(text.str(), path.string());
}

std::string ClassSet::to_text() const {
  std::string text;
  for (int c = 0; c < size(); ++c) text += name(c) + " " + color_text(color(c)) + "\n";
  return text;
}

}  // namespace qseg

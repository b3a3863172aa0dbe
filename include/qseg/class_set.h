// ClassSet: what a model's class ids mean: a name and a colour per class, 1..256 classes.
// Every output that shows classes (mask palettes, overlays, summaries, evaluation tables, JSON,
// reports) takes them from one ClassSet, so a Cityscapes model's class 0 prints as "road".
//
// Usage:
//   QSEG_ASSIGN_OR_RETURN(ClassSet classes, ClassSet::read_file("labels.txt"));
//   ClassSet fallback = ClassSet::default_for(19);  // class_0 ... class_18, generated colours
//   std::string name = classes.name(3);
//
// A labels file has one line per class: line i names label value i, optionally followed by its
// colour as #RRGGBB ("traffic light #FAAA1E"). Names may hold spaces, not '#'. Trailing blank
// lines are ignored; an empty line before the last class, an empty name, a bad colour, a
// duplicate name or more than 256 classes is an error naming FILE:LINE. Classes without a colour
// get the default palette's (below).
//
// Defaults (default_for): a 21-class model gets PASCAL VOC's names and palette; any other count
// gets names class_N and a generated palette: class 0 black, then hues in golden-angle steps
// (137.5 degrees) over three brightness levels, so that neighbouring ids look different.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "qseg/status.h"

namespace qseg {

using Rgb = std::array<uint8_t, 3>;
using Palette = std::array<Rgb, 256>;

class ClassSet {
 public:
  static constexpr int kMaxClasses = 256;

  ClassSet() = default;  // empty: no classes
  // `colors` may be empty (the default palette's) or one per name.
  static Result<ClassSet> create(std::vector<std::string> names, std::vector<Rgb> colors = {});
  // The 21 PASCAL VOC classes (background, aeroplane, ..., tvmonitor) in the VOC colour map.
  static const ClassSet& voc();
  // class_0 .. class_{count-1} in the generated palette; count in 1..256.
  static ClassSet generated(int count);
  // voc() for 21 classes, generated(count) otherwise.
  static ClassSet default_for(int count);

  // The labels-file text (see above); `name` (the file) starts every error.
  static Result<ClassSet> parse(std::string_view text, const std::string& name);
  static Result<ClassSet> read_file(const std::filesystem::path& path);
  // Labels-file text with every colour written: parse(to_text()) gives this set back.
  std::string to_text() const;

  int size() const { return static_cast<int>(names_.size()); }
  bool empty() const { return names_.empty(); }
  const std::string& name(int c) const { return names_[static_cast<size_t>(c)]; }
  const Rgb& color(int c) const { return palette_[static_cast<size_t>(c)]; }
  const std::vector<std::string>& names() const { return names_; }
  // 256 colours for a palette PNG: the classes', then (for values that are not classes, such as
  // the ignore label 255) the VOC colour map's.
  const Palette& palette() const { return palette_; }

  bool operator==(const ClassSet& other) const {
    return names_ == other.names_ && palette_ == other.palette_;
  }

 private:
  std::vector<std::string> names_;
  Palette palette_{};
};

// The generated palette's colour of class c (0..255): see the comment at the top.
Rgb generated_class_color(int c);

}  // namespace qseg

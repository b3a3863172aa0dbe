// LabelMap: dataset label values -> model classes, for using a dataset with another class set
// (e.g. person against background from VOC: "15=1,255=255,*=0"). Applied when labels are loaded,
// before their values are checked against the model's classes.
//
// Usage:
//   QSEG_ASSIGN_OR_RETURN(LabelMap map, LabelMap::parse("15=1,255=255,*=0"));
//   QSEG_ASSIGN_OR_RETURN(LabelMap from_file, LabelMap::parse("@person.map"));
//   QSEG_RETURN_IF_ERROR(map.apply(values, "SegmentationClass/x.png"));
//
// Also what the values of DeepLab's three dataset layouts mean (DatasetKind), which comes first,
// and what a loaded label may hold (LabelCheck).
//
// Header kept C++17 (src/train/support/data.h includes it, and libtorch units include that).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "qseg/status.h"

namespace qseg {

// DeepLab's dataset layouts (src/eval/dataset.h reads them):
//   kVoc: ROOT/JPEGImages/NAME.jpg, ROOT/SegmentationClass/NAME.png, split files; the label
//     values are the classes.
//   kCityscapes: ROOT/leftImg8bit/SPLIT/CITY/CITY_xxxxxx_yyyyyy_leftImg8bit.png and
//     ROOT/gtFine/SPLIT/CITY/CITY_xxxxxx_yyyyyy_gtFine_labelIds.png; the labelIds become the 19
//     train ids (road 0 ... bicycle 18), every other labelId the ignore label.
//   kAde20k: ROOT/images/SPLIT/NAME.jpg and ROOT/annotations/SPLIT/NAME.png (SPLIT training or
//     validation, ADEChallengeData2016); value v > 0 becomes class v - 1 (150 classes), 0 the
//     ignore label.
enum class DatasetKind { kVoc, kCityscapes, kAde20k };
// "voc", "cityscapes", "ade20k"; anything else is an error naming --dataset.
Result<DatasetKind> parse_dataset_kind(const std::string& name);
const char* dataset_kind_name(DatasetKind kind);
// The class a label value of `kind`'s files stands for, before any label map: the value itself
// (VOC), the train id or `ignore_label` (Cityscapes), value - 1 or `ignore_label` for 0 (ADE20K).
int dataset_class(DatasetKind kind, int value, int ignore_label);

// What a loaded label may hold: class ids 0..class_count-1 and the ignore label (0..255, the
// pixels that are not scored; -1: none).
struct LabelCheck {
  int class_count = 21;
  int ignore_label = 255;
};

class LabelMap {
 public:
  static constexpr int kMaxValue = 65535;  // dataset values: 8- or 16-bit label images
  static constexpr int kMaxClass = 255;    // model classes and the ignore label fit a byte

  // SPEC is "FROM=TO,FROM=TO,..." with FROM a dataset value (0..65535) or "*" (every value not
  // listed), TO a class or ignore label (0..255); "@FILE" reads one FROM=TO per line (blank lines
  // and lines starting with '#' are skipped). Errors name the flag or FILE:LINE and the entry: not
  // FROM=TO, a number out of range, a value listed twice, no entry at all.
  static Result<LabelMap> parse(const std::string& spec);
  // The same from the text of a map file; `name` (the file) starts every error.
  static Result<LabelMap> parse_file_text(const std::string& text, const std::string& name);

  // Where the map came from, for error messages ("--label-map" or the file).
  const std::string& source() const { return source_; }
  // The class `value` maps to, or -1 when it has no entry and there is no "*".
  int lookup(int value) const {
    return value >= 0 && value <= kMaxValue ? table_[static_cast<size_t>(value)] : -1;
  }

  // Maps every value in place (8-bit values); a value without an entry is an error
  // "LABEL_PATH: label value V at (x, y) has no entry in the label map SOURCE".
  Status apply(std::vector<uint8_t>* values, int width, const std::string& label_path) const;
  // The same for 16-bit values; the results (0..255) are written to `out`.
  Status apply(const std::vector<uint16_t>& values, int width, const std::string& label_path,
               std::vector<uint8_t>* out) const;

 private:
  LabelMap() : table_(kMaxValue + 1, -1) {}
  Status add_entry(const std::string& entry, const std::string& where, bool* has_default,
                   std::vector<bool>* listed);
  Status unmapped(int value, size_t index, int width, const std::string& label_path) const;

  std::string source_;
  std::vector<int16_t> table_;  // value -> class, -1: no entry
};

}  // namespace qseg

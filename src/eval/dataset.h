// Segmentation datasets in DeepLab's three layouts (VOC, Cityscapes, ADE20K; see DatasetKind in
// eval/label_map.h): splits -> samples, and loading one sample (photo and label map) with
// validation. Knows nothing about models, so evaluation and training share it.
//
// Usage:
//   QSEG_ASSIGN_OR_RETURN(std::vector<Sample> samples,
//                         read_samples({{"../shared/voc2012", "val_available.txt"}}));
//   QSEG_ASSIGN_OR_RETURN(LoadedSample sample, load_sample(samples[0]));
//
// A VOC root holds JPEGImages/NAME.jpg, SegmentationClass/NAME.png and usually the split files
// in ImageSets/Segmentation/; Cityscapes and ADE20K splits are folders (train / val, training /
// validation). Label files are palette PNGs (the indices), 8- or 16-bit gray PNGs or palette BMPs;
// once loaded, labels are class ids 0..N-1 or the ignore label (255 unless told otherwise).
#pragma once

#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "eval/label_map.h"
#include "qseg/image.h"
#include "qseg/limits.h"
#include "qseg/status.h"

namespace qseg {

// One (root, split) pair. For VOC the split is a text file with one photo name per line; blank
// lines and surrounding whitespace are ignored. A relative split path that does not exist as
// given is also looked for in ROOT/ImageSets/Segmentation/, so "val.txt" names the official
// split. For Cityscapes it is a folder name under leftImg8bit/ (train, val, test), for ADE20K one
// under images/ (training, validation; train and val name them too).
struct DatasetSource {
  std::filesystem::path root;
  std::filesystem::path split;
  // Applied to the label values as they are loaded, before they are checked; null: none.
  std::shared_ptr<const LabelMap> label_map;
  DatasetKind kind = DatasetKind::kVoc;
};

struct Sample {
  std::string name;                           // the name from the split file
  std::filesystem::path photo_path;           // ROOT/JPEGImages/NAME.jpg
  std::filesystem::path label_path;           // ROOT/SegmentationClass/NAME.png
  std::shared_ptr<const LabelMap> label_map;  // the source's
  DatasetKind kind = DatasetKind::kVoc;       // the source's: what the label values mean
};

struct LoadedSample {
  Image rgb;                  // 3 channels; reduced when a decode box was given (see load_sample)
  Image labels;               // 1 channel, the photo's full size, values 0..20 or 255
  int width = 0, height = 0;  // the photo's full size (the labels')
};

// The split file a VOC source refers to: as given if it exists, else ROOT/ImageSets/Segmentation/
// SPLIT for a relative path; an error naming every path tried when neither exists. For the other
// kinds, the split's photo folder (an error when it is not a folder).
Result<std::filesystem::path> resolve_split_path(const DatasetSource& source);

// The samples of one split in file order. Errors (naming the split file and line): a missing or
// unreadable split file, a name containing '/', '\\', whitespace or "..", a name listed twice,
// no names at all. Files are not opened here: a missing photo is found by load_sample.
Result<std::vector<Sample>> read_samples(const DatasetSource& source);
// The samples listed by the text of a split file (what read_samples does once the file is read),
// with the same checks and errors; `split_path` only names the file in them, `root` starts the
// photo and label paths. Kept apart from the file so it can be tested and fuzzed from memory.
Result<std::vector<Sample>> parse_split(std::string_view text, const std::filesystem::path& root,
                                        const std::filesystem::path& split_path);
// The samples of several sources, concatenated in order (for training on several datasets).
Result<std::vector<Sample>> read_samples(std::span<const DatasetSource> sources);

// Reads and checks one sample; errors name the file at fault ("PATH: cannot open ...",
// "PATH: label is 500x375 but the photo PHOTO is 500x333", "PATH: label value 50 at (x, y) ...").
// The label values become classes in this order: the dataset kind's meaning (dataset_class),
// then the sample's label map if any, then the check against `check`.
// Both files are read within `limits` (a photo over them is an error naming the limit).
// With a box (box_width x box_height, e.g. the model input), a large JPEG photo is decoded only
// as far as its fit into the box needs (decode_photo_for_box), as `qseg segment` decodes it.
Result<LoadedSample> load_sample(const Sample& sample, const ImageLimits& limits = {},
                                 const LabelCheck& check = {}, int box_width = 0,
                                 int box_height = 0);

// Checks that `labels` is 1 channel of width x height holding only class ids below
// check.class_count and the ignore label; errors start with `label_path`.
Status check_labels(const Image& labels, int width, int height,
                    const std::filesystem::path& label_path,
                    const std::filesystem::path& photo_path, const LabelCheck& check = {});

}  // namespace qseg

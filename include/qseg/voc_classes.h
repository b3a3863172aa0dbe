// The 21 PASCAL VOC class names in id order (0 background ... 20 tvmonitor); 255 is "void".
#pragma once

#include <array>
#include <string_view>

namespace qseg {

inline constexpr int kVocClassCount = 21;
inline constexpr int kVocIgnoreLabel = 255;

inline constexpr std::array<std::string_view, kVocClassCount> kVocClassNames = {
    "background", "aeroplane", "bicycle",     "bird",  "boat",        "bottle", "bus",
    "car",        "cat",       "chair",       "cow",   "diningtable", "dog",    "horse",
    "motorbike",  "person",    "pottedplant", "sheep", "sofa",        "train",  "tvmonitor"};

}  // namespace qseg

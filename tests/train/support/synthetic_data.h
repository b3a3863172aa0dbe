// A generated segmentation set in the VOC layout for training tests: photos of coloured,
// textured shapes on a noisy background, labelled with their class (0 background, 1..3 shapes,
// 255 on a thin band around each shape as VOC's void boundaries).
#pragma once

#include <cstdint>
#include <filesystem>

namespace qseg::test {

// Writes ROOT/JPEGImages/NAME.jpg (PNG bytes; the decoders go by magic bytes),
// ROOT/SegmentationClass/NAME.png and ROOT/ImageSets/Segmentation/{train,val}.txt.
void write_synthetic_segmentation_set(const std::filesystem::path& root, int train_count,
                                      int val_count, int size, uint64_t seed);

}  // namespace qseg::test

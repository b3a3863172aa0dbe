// An 8-bit image in memory (row-major, interleaved channels). The pixel operations the Segmenter
// needs (resize, pad, crop, the PASCAL VOC colour map, overlays) are in src/imgproc/image_ops.h
// and ship with the runtime; file formats are in src/imgproc/image_io.h (qseg_imageio).
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace qseg {

struct Image {
  int width = 0;
  int height = 0;
  int channels = 0;             // 1 (gray or class ids) or 3 (RGB)
  std::vector<uint8_t> pixels;  // height * width * channels bytes, top row first

  Image() = default;
  Image(int w, int h, int c, uint8_t fill = 0)
      : width(w), height(h), channels(c), pixels(static_cast<size_t>(w) * h * c, fill) {}
  uint8_t* row(int y) { return pixels.data() + static_cast<size_t>(y) * width * channels; }
  const uint8_t* row(int y) const {
    return pixels.data() + static_cast<size_t>(y) * width * channels;
  }
  bool empty() const { return pixels.empty(); }
};

}  // namespace qseg

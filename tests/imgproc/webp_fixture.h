// WebP files for the tests and fuzz seeds, made with libwebp's own encoder (the decoder under test
// is qseg's use of libwebp's decoder; the encoder is libwebp's, not qseg's).
#pragma once

#include <webp/encode.h>

#include <cstdint>
#include <vector>

#include "qseg/image.h"

namespace qseg::test {

// `rgb` (3 channels) or RGBA (4 bytes per pixel in `pixels`, `channels` 4) as a WebP file:
// lossless, or lossy at `quality` (0..100). Empty on failure.
inline std::vector<uint8_t> encode_webp(const std::vector<uint8_t>& pixels, int width, int height,
                                        int channels, bool lossless, float quality = 90) {
  uint8_t* out = nullptr;
  size_t size = 0;
  const int stride = width * channels;
  if (channels == 4) {
    size = lossless ? WebPEncodeLosslessRGBA(pixels.data(), width, height, stride, &out)
                    : WebPEncodeRGBA(pixels.data(), width, height, stride, quality, &out);
  } else {
    size = lossless ? WebPEncodeLosslessRGB(pixels.data(), width, height, stride, &out)
                    : WebPEncodeRGB(pixels.data(), width, height, stride, quality, &out);
  }
  std::vector<uint8_t> bytes(out, out + size);
  WebPFree(out);
  return bytes;
}

inline std::vector<uint8_t> encode_webp(const Image& rgb, bool lossless, float quality = 90) {
  return encode_webp(rgb.pixels, rgb.width, rgb.height, rgb.channels, lossless, quality);
}

}  // namespace qseg::test

// Image files: decoding JPEG, PNG, BMP and WebP (photos as RGB, label maps as class ids) and
// writing PNGs (RGB, gray, and VOC-palette label maps). Built into qseg_imageio (libjpeg-turbo,
// libpng).
//
// Usage:
//   QSEG_ASSIGN_OR_RETURN(Image photo, read_image("photo.jpg"));        // always 3 channels
//   QSEG_ASSIGN_OR_RETURN(Image truth, read_label_image("mask.png"));   // 1 channel of ids
//   QSEG_RETURN_IF_ERROR(write_label_png("prediction.png", labels));
//
// The format comes from the file's magic bytes, never its extension. Every failure is a Status
// with one line naming the file ("photo.jpg: truncated or corrupt JPEG: ..."); corrupt input
// never crashes, aborts or allocates more than the declared size, which is checked against
// ImageLimits before any pixel buffer exists.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>
#include <vector>

#include "qseg/image.h"
#include "qseg/limits.h"
#include "qseg/status.h"

namespace qseg {

enum class ImageFormat { kUnknown, kJpeg, kPng, kBmp, kWebp };

// The format announced by the first bytes (JPEG FF D8 FF, PNG's 8-byte signature, BMP "BM",
// WebP "RIFF....WEBP").
ImageFormat detect_image_format(std::span<const uint8_t> bytes);

// A photo as 3-channel RGB, whatever the file holds:
//   JPEG: RGB/YCbCr or grayscale (CMYK/YCCK are rejected); truncated data is an error.
//   PNG: gray, gray+alpha, RGB, RGBA, palette; 1..16 bits (16 is rounded to 8); alpha dropped.
//   BMP: 1/4/8-bit palette, 16/24/32-bit (BI_RGB or BI_BITFIELDS); bottom-up or top-down.
//   WebP: lossy or lossless stills (libwebp), alpha dropped; animated files are rejected.
// `name` (usually the path) prefixes every error message.
Result<Image> decode_image(std::span<const uint8_t> bytes, std::string_view name,
                           const ImageLimits& limits = {});
Result<Image> read_image(const std::filesystem::path& path, const ImageLimits& limits = {});

// A photo decoded for a use that needs only part of its pixels: `image` is the photo as displayed
// (EXIF orientation applied), possibly at a reduced size; width x height is the photo's full
// displayed size, the size its mask has.
struct DecodedPhoto {
  Image image;
  int width = 0, height = 0;
  bool reduced() const { return image.width != width || image.height != height; }
};
// A photo for a use that needs it fitted into box_width x box_height (aspect ratio kept), as the
// Segmenter fits photos into the model input: a JPEG is decoded at the smallest of libjpeg-turbo's
// DCT scales (1/8, 1/4, 1/2, 1) whose sides still cover the fitted size, so a 12 MP phone photo
// for a 513x513 model input is decoded at 1008x756 and its 12 MP never exist (each 8x8 block's
// inverse DCT computes only its lowest frequencies, i.e. the block's mean colours, not samples).
// Other formats, and JPEGs no larger than twice the fitted size, decode at full size. A box of
// 0 x 0 is full size.
Result<DecodedPhoto> decode_photo_for_box(std::span<const uint8_t> bytes, std::string_view name,
                                          int box_width, int box_height,
                                          const ImageLimits& limits = {});
Result<DecodedPhoto> read_photo_for_box(const std::filesystem::path& path, int box_width,
                                        int box_height, const ImageLimits& limits = {});

// A label map as 1 channel of class ids: the raw indices of a palette PNG or a palette BMP (never
// their colours), or the values of a gray PNG of at most 8 bits. Anything else (RGB, JPEG,
// 16-bit) fails with "NAME: label image must be palette or 8-bit gray, got ...".
Result<Image> decode_label_image(std::span<const uint8_t> bytes, std::string_view name,
                                 const ImageLimits& limits = {});
Result<Image> read_label_image(const std::filesystem::path& path, const ImageLimits& limits = {});

// A label map's raw values, up to 16 bits: what decode_label_image reads, and 16-bit gray PNGs
// (datasets with more than 256 label values, mapped to classes by a label map). Other formats
// fail with "NAME: label image must be palette, 8-bit or 16-bit gray, got ...".
struct LabelValues {
  int width = 0, height = 0;
  std::vector<uint16_t> values;  // height * width, top row first
};
Result<LabelValues> decode_label_values(std::span<const uint8_t> bytes, std::string_view name,
                                        const ImageLimits& limits = {});
Result<LabelValues> read_label_values(const std::filesystem::path& path,
                                      const ImageLimits& limits = {});

// PNG bytes of a 1-channel (gray) or 3-channel (RGB) image.
Result<std::vector<uint8_t>> encode_png(const Image& image, std::string_view name);
// PNG bytes of a 1-channel label map as an 8-bit palette PNG with the PASCAL VOC colour map, or
// the given 256 colours (a ClassSet's palette()): the indices are stored as they are, so
// decode_label_image returns the same ids.
Result<std::vector<uint8_t>> encode_label_png(const Image& labels, std::string_view name);
Result<std::vector<uint8_t>> encode_label_png(
    const Image& labels, std::string_view name,
    const std::array<std::array<uint8_t, 3>, 256>& palette);

// Baseline JPEG bytes (libjpeg-turbo, 4:2:0) of a 1- or 3-channel image; quality 1..100.
Result<std::vector<uint8_t>> encode_jpeg(const Image& image, std::string_view name,
                                         int quality = 90);
Status write_jpeg(const std::filesystem::path& path, const Image& image, int quality = 90);

// Write the encodings above to `path` with write_file_atomically (below), so `path` is never left
// half-written.
Status write_png(const std::filesystem::path& path, const Image& image);
Status write_label_png(const std::filesystem::path& path, const Image& labels);
Status write_label_png(const std::filesystem::path& path, const Image& labels,
                       const std::array<std::array<uint8_t, 3>, 256>& palette);

// The whole file, with the errors worded like the decoders' ("cannot open X: No such file or
// directory", "X: file is larger than ... bytes").
Result<std::vector<uint8_t>> read_file_bytes(const std::filesystem::path& path,
                                             int64_t max_bytes = int64_t{1} << 31);
// Writes `bytes` to `path` through io::write_file_durably (src/io/durable_write.h), the one
// writer every file of qseg goes through: a reader sees the old file or the whole new one, the new
// one is on disk when this returns, and a failed write leaves no temporary behind.
Status write_file_atomically(const std::filesystem::path& path, std::span<const uint8_t> bytes);

}  // namespace qseg

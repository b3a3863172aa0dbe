// Shared by the codec files of qseg_imageio (io_*.cc): the per-format decoders and encoders
// behind image_io.h, and the checks and error wording they have in common. Not a public API.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "imgproc/image_io.h"

namespace qseg::io {

// What the caller wants out of a file: a 3-channel RGB photo, 1 channel of class ids, or label
// values up to 16 bits (PNG only: a 16-bit gray PNG comes back as 2 channels, the big-endian
// bytes of each value; anything else as kLabels).
enum class DecodeTarget { kRgb, kLabels, kLabelValues };

// "NAME: message" as a failed Status.
Status file_error(std::string_view name, std::string_view message);

// "NAME: label image must be palette or 8-bit gray, got WHAT" (with 16-bit gray when `target` is
// kLabelValues).
Status label_format_error(std::string_view name, std::string_view what,
                          DecodeTarget target = DecodeTarget::kLabels);

// Rejects width or height <= 0 or over limits.max_side, and width * height over
// limits.max_pixels; `format` names the file type in the message. Call before allocating.
Status check_dimensions(std::string_view name, std::string_view format, int64_t width,
                        int64_t height, const ImageLimits& limits);

// A JPEG photo as it is displayed: decoded, then turned by its EXIF orientation (below).
Result<Image> decode_jpeg(std::span<const uint8_t> bytes, std::string_view name,
                          const ImageLimits& limits);
// The same, decoded at the smallest DCT scale that covers the photo fitted into
// box_width x box_height (see decode_photo_for_box in image_io.h).
Result<DecodedPhoto> decode_jpeg_for_box(std::span<const uint8_t> bytes, std::string_view name,
                                         int box_width, int box_height, const ImageLimits& limits);
// The DCT scale denominator (8, 4, 2 or 1) decode_jpeg_for_box decodes a stored
// stored_width x stored_height JPEG of EXIF `orientation` at: the largest d whose decoded sides
// (ceil(side / d), as libjpeg-turbo rounds them) are at least the displayed photo's sides fitted
// into the box with its aspect ratio kept; 1 for a box of 0 x 0.
int jpeg_scale_denominator(int stored_width, int stored_height, int orientation, int box_width,
                           int box_height);
// The EXIF orientation (1..8, tag 0x0112 of IFD0 in the APP1 Exif segment) of a JPEG file's
// bytes; 1 (as stored) when there is none or the EXIF is damaged in any way (io_exif.cc).
int jpeg_exif_orientation(std::span<const uint8_t> bytes);
// The stored pixels turned or flipped as EXIF orientation `orientation` says (5..8 swap width and
// height; anything outside 2..8 returns `stored` as it is).
Result<Image> apply_exif_orientation(Image stored, int orientation, std::string_view name);
Result<Image> decode_png(std::span<const uint8_t> bytes, std::string_view name,
                         const ImageLimits& limits, DecodeTarget target);
Result<Image> decode_bmp(std::span<const uint8_t> bytes, std::string_view name,
                         const ImageLimits& limits, DecodeTarget target);
// A WebP still (lossy or lossless; alpha dropped) as RGB (io_webp.cc). Animated files are refused.
Result<Image> decode_webp(std::span<const uint8_t> bytes, std::string_view name,
                          const ImageLimits& limits);

// An 8-bit PNG of `image` (1 or 3 channels), or with `palette` an 8-bit palette PNG of a 1-channel
// image (the palette has 256 RGB entries).
Result<std::vector<uint8_t>> encode_png_bytes(
    const Image& image, std::string_view name,
    const std::array<std::array<uint8_t, 3>, 256>* palette);

}  // namespace qseg::io

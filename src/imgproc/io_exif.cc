// EXIF orientation of JPEG photos: the tag read from the APP1 Exif segment (TIFF header in either
// byte order, parsed here with bounds checks on every read) and the flip or rotation it asks for.
// Bad or missing EXIF means "as stored" (orientation 1): metadata never makes a photo unreadable.
#include <cstring>

#include "imgproc/io_internal.h"

namespace qseg::io {
namespace {

// Reads of the TIFF block inside the Exif segment; every read checks the block's bounds.
class TiffReader {
 public:
  TiffReader(std::span<const uint8_t> tiff, bool big_endian) : tiff_(tiff), big_(big_endian) {}
  bool u16(size_t at, uint32_t* out) const {
    if (at > tiff_.size() || tiff_.size() - at < 2) return false;
    *out = big_ ? (tiff_[at] << 8 | tiff_[at + 1]) : (tiff_[at + 1] << 8 | tiff_[at]);
    return true;
  }
  bool u32(size_t at, uint32_t* out) const {
    uint32_t high = 0, low = 0;
    if (!u16(at, big_ ? &high : &low) || !u16(at + 2, big_ ? &low : &high)) return false;
    *out = high << 16 | low;
    return true;
  }

 private:
  std::span<const uint8_t> tiff_;
  bool big_;
};

constexpr uint32_t kOrientationTag = 0x0112;
constexpr uint32_t kTypeShort = 3;

// The orientation in one Exif segment's payload ("Exif\0\0" then the TIFF block), or 0.
int orientation_in_exif(std::span<const uint8_t> payload) {
  static constexpr uint8_t kExifId[6] = {'E', 'x', 'i', 'f', 0, 0};
  if (payload.size() < 6 + 8 || std::memcmp(payload.data(), kExifId, 6) != 0) return 0;
  const std::span<const uint8_t> tiff = payload.subspan(6);
  bool big_endian;
  if (tiff[0] == 'I' && tiff[1] == 'I') {
    big_endian = false;
  } else if (tiff[0] == 'M' && tiff[1] == 'M') {
    big_endian = true;
  } else {
    return 0;
  }
  const TiffReader reader(tiff, big_endian);
  uint32_t magic = 0, ifd = 0, count = 0;
  if (!reader.u16(2, &magic) || magic != 42 || !reader.u32(4, &ifd) || !reader.u16(ifd, &count))
    return 0;
  // IFD0 only (the orientation of the main image); each entry is 12 bytes. An IFD that does not
  // fit in the block is damaged as a whole.
  if (static_cast<size_t>(ifd) + 2 + 12 * static_cast<size_t>(count) > tiff.size()) return 0;
  for (uint32_t i = 0; i < count; ++i) {
    const size_t entry = static_cast<size_t>(ifd) + 2 + 12 * static_cast<size_t>(i);
    uint32_t tag = 0, type = 0, values = 0, value = 0;
    if (!reader.u16(entry, &tag) || !reader.u16(entry + 2, &type) ||
        !reader.u32(entry + 4, &values) || !reader.u16(entry + 8, &value))
      return 0;
    if (tag != kOrientationTag) continue;
    if (type != kTypeShort || values != 1 || value < 1 || value > 8) return 0;
    return static_cast<int>(value);
  }
  return 0;
}

}  // namespace

int jpeg_exif_orientation(std::span<const uint8_t> bytes) {
  // Markers after SOI: FF xx, then (except for standalone ones) a 2-byte big-endian length that
  // counts itself. Metadata comes before the first scan (SOS), so the walk stops there.
  size_t at = 2;
  while (at + 4 <= bytes.size()) {
    if (bytes[at] != 0xFF) return 1;
    const uint8_t marker = bytes[at + 1];
    if (marker == 0xFF) {  // fill byte
      ++at;
      continue;
    }
    if (marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) {
      at += 2;
      continue;
    }
    if (marker == 0xDA || marker == 0xD9) return 1;
    const size_t length = static_cast<size_t>(bytes[at + 2]) << 8 | bytes[at + 3];
    if (length < 2 || length > bytes.size() - at - 2) return 1;
    if (marker == 0xE1) {
      const int orientation = orientation_in_exif(bytes.subspan(at + 4, length - 2));
      if (orientation != 0) return orientation;
    }
    at += 2 + length;
  }
  return 1;
}

Result<Image> apply_exif_orientation(Image stored, int orientation, std::string_view name) {
  if (orientation <= 1 || orientation > 8) return stored;
  const int sw = stored.width, sh = stored.height, c = stored.channels;
  const bool swaps = orientation >= 5;  // 5..8 turn the photo a quarter: width and height swap
  Image shown;
  try {
    shown = Image(swaps ? sh : sw, swaps ? sw : sh, c);
  } catch (const std::bad_alloc&) {
    return file_error(name, "out of memory turning the photo to its EXIF orientation");
  }
  // For each displayed pixel (x, y), the stored pixel it shows (EXIF 2.3, tag 0x0112).
  for (int y = 0; y < shown.height; ++y) {
    for (int x = 0; x < shown.width; ++x) {
      int sx = x, sy = y;
      switch (orientation) {
        case 2:
          sx = sw - 1 - x;
          break;  // mirrored left to right
        case 3:
          sx = sw - 1 - x;
          sy = sh - 1 - y;
          break;  // turned 180 degrees
        case 4:
          sy = sh - 1 - y;
          break;  // mirrored top to bottom
        case 5:
          sx = y;
          sy = x;
          break;  // transposed
        case 6:
          sx = y;
          sy = sh - 1 - x;
          break;  // to turn 90 degrees clockwise
        case 7:
          sx = sw - 1 - y;
          sy = sh - 1 - x;
          break;  // transversed
        case 8:
          sx = sw - 1 - y;
          sy = x;
          break;  // to turn 90 degrees counter-clockwise
        default:
          break;
      }
      std::memcpy(shown.row(y) + static_cast<size_t>(x) * c,
                  stored.row(sy) + static_cast<size_t>(sx) * c, c);
    }
  }
  return shown;
}

}  // namespace qseg::io

// BMP decoding (Windows DIB): 1/4/8-bit palette, 16/24/32-bit BI_RGB and BI_BITFIELDS, bottom-up
// or top-down. Every header field is checked against the file size before it is used.
#include <algorithm>
#include <bit>
#include <cstring>
#include <new>

#include "imgproc/io_internal.h"

namespace qseg::io {
namespace {

constexpr size_t kFileHeaderSize = 14;
constexpr uint32_t kBiRgb = 0, kBiRle8 = 1, kBiRle4 = 2, kBiBitfields = 3, kBiJpeg = 4, kBiPng = 5,
                   kBiAlphaBitfields = 6;

uint16_t read_u16(std::span<const uint8_t> bytes, size_t offset) {
  return static_cast<uint16_t>(bytes[offset] | (bytes[offset + 1] << 8));
}
uint32_t read_u32(std::span<const uint8_t> bytes, size_t offset) {
  return static_cast<uint32_t>(bytes[offset]) | (static_cast<uint32_t>(bytes[offset + 1]) << 8) |
         (static_cast<uint32_t>(bytes[offset + 2]) << 16) |
         (static_cast<uint32_t>(bytes[offset + 3]) << 24);
}
int32_t read_i32(std::span<const uint8_t> bytes, size_t offset) {
  return static_cast<int32_t>(read_u32(bytes, offset));
}

// The header fields we use, after validation.
struct BmpLayout {
  int64_t width = 0;
  int64_t height = 0;  // positive
  bool top_down = false;
  int bits_per_pixel = 0;
  uint32_t compression = kBiRgb;
  std::array<uint32_t, 3> masks{};                    // r, g, b for 16 and 32 bits
  std::array<std::array<uint8_t, 3>, 256> palette{};  // RGB; unused entries black
  int palette_size = 0;
  uint64_t data_offset = 0;
  uint64_t row_stride = 0;
};

// One channel of a BI_BITFIELDS pixel: (pixel & mask) >> shift, rescaled from `bits` to 8 bits.
struct MaskChannel {
  uint32_t mask = 0;
  int shift = 0;
  uint32_t max_value = 0;

  uint8_t extract(uint32_t pixel) const {
    const uint32_t value = (pixel & mask) >> shift;
    if (max_value == 255) return static_cast<uint8_t>(value);
    return static_cast<uint8_t>((uint64_t{value} * 255 + max_value / 2) / max_value);
  }
};

bool make_mask_channel(uint32_t mask, MaskChannel* channel) {
  if (mask == 0) return false;
  const int shift = std::countr_zero(mask);
  const uint32_t shifted = mask >> shift;
  if ((shifted & (shifted + 1)) != 0) return false;  // bits must be contiguous
  *channel = {mask, shift, shifted};
  return true;
}

std::string describe_bmp(const BmpLayout& layout) {
  return std::to_string(layout.bits_per_pixel) + "-bit BMP";
}

Status parse_masks(std::span<const uint8_t> bytes, std::string_view name, uint32_t header_size,
                   BmpLayout& layout, uint64_t& header_end) {
  const int bpp = layout.bits_per_pixel;
  if (layout.compression == kBiRgb) {
    layout.masks = bpp == 16 ? std::array<uint32_t, 3>{0x7C00, 0x03E0, 0x001F}
                             : std::array<uint32_t, 3>{0xFF0000, 0x00FF00, 0x0000FF};
    return Status::ok();
  }
  if (bpp != 16 && bpp != 32) {
    return file_error(name,
                      "BMP bit fields need 16 or 32 bits per pixel, got " + std::to_string(bpp));
  }
  uint64_t masks_offset = kFileHeaderSize + 40;
  if (header_size == 40) {
    // The masks follow a BITMAPINFOHEADER (a fourth, alpha, with BI_ALPHABITFIELDS).
    header_end += layout.compression == kBiAlphaBitfields ? 16 : 12;
    if (header_end > bytes.size()) return file_error(name, "truncated BMP header (bit fields)");
  } else if (header_size < 52) {
    return file_error(name, "BMP header too small for bit fields");
  }
  for (int c = 0; c < 3; ++c)
    layout.masks[c] = read_u32(bytes, masks_offset + 4 * static_cast<size_t>(c));
  return Status::ok();
}

Status parse_palette(std::span<const uint8_t> bytes, std::string_view name, uint32_t header_size,
                     uint32_t colors_used, BmpLayout& layout, uint64_t header_end) {
  const int max_colors = 1 << layout.bits_per_pixel;
  const uint64_t entry_size = header_size == 12 ? 3 : 4;  // OS/2 core headers use RGBTRIPLE
  if (colors_used > static_cast<uint32_t>(max_colors)) {
    return file_error(name, "BMP palette has " + std::to_string(colors_used) +
                                " colours, more than " + std::to_string(max_colors) + " for " +
                                std::to_string(layout.bits_per_pixel) + "-bit pixels");
  }
  // Some writers leave colors_used at 0 and store fewer than 2^bpp entries: trust the offset.
  const uint64_t room = (layout.data_offset - header_end) / entry_size;
  uint64_t count = colors_used != 0 ? colors_used : std::min<uint64_t>(max_colors, room);
  if (count > room) {
    return file_error(
        name, "BMP palette of " + std::to_string(count) + " colours overlaps the pixel data");
  }
  if (count == 0) return file_error(name, "BMP palette is empty");
  for (uint64_t i = 0; i < count; ++i) {
    const size_t at = static_cast<size_t>(header_end + i * entry_size);  // stored B, G, R
    layout.palette[i] = {bytes[at + 2], bytes[at + 1], bytes[at]};
  }
  layout.palette_size = static_cast<int>(count);
  return Status::ok();
}

Result<BmpLayout> parse_headers(std::span<const uint8_t> bytes, std::string_view name,
                                const ImageLimits& limits) {
  if (bytes.size() < kFileHeaderSize + 4) return file_error(name, "truncated BMP header");
  BmpLayout layout;
  layout.data_offset = read_u32(bytes, 10);
  const uint32_t header_size = read_u32(bytes, 14);
  if (header_size != 12 && header_size != 40 && header_size != 52 && header_size != 56 &&
      header_size != 108 && header_size != 124) {
    return file_error(name, "unsupported BMP header size " + std::to_string(header_size));
  }
  uint64_t header_end = kFileHeaderSize + header_size;
  if (header_end > bytes.size()) return file_error(name, "truncated BMP header");

  uint32_t colors_used = 0;
  if (header_size == 12) {  // BITMAPCOREHEADER: unsigned 16-bit sizes, always bottom-up
    layout.width = read_u16(bytes, 18);
    layout.height = read_u16(bytes, 20);
    layout.bits_per_pixel = read_u16(bytes, 24);
  } else {
    layout.width = read_i32(bytes, 18);
    const int64_t height = read_i32(bytes, 22);
    layout.top_down = height < 0;
    layout.height = height < 0 ? -height : height;  // int64: no overflow for INT32_MIN
    layout.bits_per_pixel = read_u16(bytes, 28);
    layout.compression = read_u32(bytes, 30);
    colors_used = read_u32(bytes, 46);
  }
  QSEG_RETURN_IF_ERROR(check_dimensions(name, "BMP", layout.width, layout.height, limits));

  const int bpp = layout.bits_per_pixel;
  if (bpp != 1 && bpp != 4 && bpp != 8 && bpp != 16 && bpp != 24 && bpp != 32) {
    return file_error(name, "unsupported BMP depth of " + std::to_string(bpp) + " bits per pixel");
  }
  switch (layout.compression) {
    case kBiRgb:
      break;
    case kBiBitfields:
    case kBiAlphaBitfields:
      QSEG_RETURN_IF_ERROR(parse_masks(bytes, name, header_size, layout, header_end));
      break;
    case kBiRle8:
    case kBiRle4:
      return file_error(name, "RLE-compressed BMP is not supported");
    case kBiJpeg:
    case kBiPng:
      return file_error(name, "BMP with embedded JPEG/PNG data is not supported");
    default:
      return file_error(name, "invalid BMP compression " + std::to_string(layout.compression));
  }
  if (layout.compression == kBiRgb && bpp >= 16) {
    QSEG_RETURN_IF_ERROR(parse_masks(bytes, name, header_size, layout, header_end));
  }

  if (layout.data_offset < header_end) {
    return file_error(name, "BMP pixel data offset " + std::to_string(layout.data_offset) +
                                " overlaps the headers");
  }
  if (layout.data_offset > bytes.size()) {
    return file_error(name, "BMP pixel data offset " + std::to_string(layout.data_offset) +
                                " is past the end of the file (" + std::to_string(bytes.size()) +
                                " bytes)");
  }
  if (bpp <= 8) {
    QSEG_RETURN_IF_ERROR(parse_palette(bytes, name, header_size, colors_used, layout, header_end));
  }

  // Rows are padded to 4 bytes; the last row's padding is not required (some writers omit it).
  const uint64_t row_bytes = (static_cast<uint64_t>(layout.width) * bpp + 7) / 8;
  layout.row_stride = (static_cast<uint64_t>(layout.width) * bpp + 31) / 32 * 4;
  const uint64_t needed = layout.row_stride * (layout.height - 1) + row_bytes;
  if (needed > bytes.size() - layout.data_offset) {
    return file_error(name, "truncated BMP: the pixel data needs " + std::to_string(needed) +
                                " bytes from offset " + std::to_string(layout.data_offset) +
                                ", the file has " + std::to_string(bytes.size()) + " bytes");
  }
  return layout;
}

// The palette index of pixel x in a row of 1, 4 or 8 bits per pixel (high bits first).
uint8_t palette_index(const uint8_t* row, int64_t x, int bpp) {
  if (bpp == 8) return row[x];
  const int64_t bit = x * bpp;
  const int shift = 8 - bpp - static_cast<int>(bit % 8);
  return static_cast<uint8_t>((row[bit / 8] >> shift) & ((1 << bpp) - 1));
}

void decode_row(const BmpLayout& layout, const std::array<MaskChannel, 3>& channels,
                DecodeTarget target, const uint8_t* src, uint8_t* dst) {
  const int bpp = layout.bits_per_pixel;
  const int64_t width = layout.width;
  if (bpp <= 8) {
    for (int64_t x = 0; x < width; ++x) {
      const uint8_t index = palette_index(src, x, bpp);
      if (target == DecodeTarget::kLabels) {
        dst[x] = index;
      } else {
        std::memcpy(dst + 3 * x, layout.palette[index].data(), 3);  // beyond palette_size: black
      }
    }
  } else if (bpp == 24) {
    for (int64_t x = 0; x < width; ++x) {  // stored B, G, R
      dst[3 * x] = src[3 * x + 2];
      dst[3 * x + 1] = src[3 * x + 1];
      dst[3 * x + 2] = src[3 * x];
    }
  } else {
    const int bytes_per_pixel = bpp / 8;
    for (int64_t x = 0; x < width; ++x) {
      const uint8_t* p = src + bytes_per_pixel * x;
      const uint32_t pixel = bytes_per_pixel == 2 ? static_cast<uint32_t>(p[0] | (p[1] << 8))
                                                  : static_cast<uint32_t>(p[0]) |
                                                        (static_cast<uint32_t>(p[1]) << 8) |
                                                        (static_cast<uint32_t>(p[2]) << 16) |
                                                        (static_cast<uint32_t>(p[3]) << 24);
      for (int c = 0; c < 3; ++c) dst[3 * x + c] = channels[c].extract(pixel);
    }
  }
}

}  // namespace

Result<Image> decode_bmp(std::span<const uint8_t> bytes, std::string_view name,
                         const ImageLimits& limits, DecodeTarget target) {
  QSEG_ASSIGN_OR_RETURN(const BmpLayout layout, parse_headers(bytes, name, limits));
  if (target == DecodeTarget::kLabels && layout.bits_per_pixel > 8) {
    return label_format_error(name, describe_bmp(layout));
  }
  std::array<MaskChannel, 3> channels{};
  if (layout.bits_per_pixel == 16 || layout.bits_per_pixel == 32) {
    for (int c = 0; c < 3; ++c) {
      if (!make_mask_channel(layout.masks[c], &channels[c])) {
        return file_error(name, "invalid BMP bit field mask " + std::to_string(layout.masks[c]));
      }
    }
  }

  Image image;
  try {
    image = Image(static_cast<int>(layout.width), static_cast<int>(layout.height),
                  target == DecodeTarget::kLabels ? 1 : 3);
  } catch (const std::bad_alloc&) {
    return file_error(name, "out of memory for the BMP's pixels");
  }
  for (int y = 0; y < image.height; ++y) {
    const int64_t stored_row = layout.top_down ? y : layout.height - 1 - y;
    const uint8_t* src = bytes.data() + layout.data_offset + stored_row * layout.row_stride;
    decode_row(layout, channels, target, src, image.row(y));
  }
  return image;
}

}  // namespace qseg::io

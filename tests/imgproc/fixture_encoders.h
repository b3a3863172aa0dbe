// Tiny, deliberately naive BMP and PNG writers for the imgproc tests: they build exact files
// (including broken ones) independently of the code under test. PNG data goes into stored
// (uncompressed) deflate blocks, so no zlib is needed.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace qseg::test {

inline void put_u16le(std::vector<uint8_t>& out, uint32_t v) {
  out.push_back(v & 0xFF);
  out.push_back((v >> 8) & 0xFF);
}
inline void put_u32le(std::vector<uint8_t>& out, uint32_t v) {
  put_u16le(out, v & 0xFFFF);
  put_u16le(out, v >> 16);
}
inline void put_u32be(std::vector<uint8_t>& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back((v >> shift) & 0xFF);
}
inline void set_u32le(std::vector<uint8_t>& out, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) out[at + i] = (v >> (8 * i)) & 0xFF;
}

struct BmpSpec {
  int32_t width = 0;
  int32_t height = 0;  // negative: top-down
  int bits_per_pixel = 24;
  uint32_t header_size = 40;  // 12, 40, 108 or 124
  uint32_t compression = 0;
  std::vector<uint32_t> masks{};  // r, g, b for BI_BITFIELDS
  // Palette entries as stored (B, G, R); colors_used is written as given.
  std::vector<std::array<uint8_t, 3>> palette_bgr{};
  uint32_t colors_used = 0;
  // Packed pixel bytes of each image row, top row first, without padding.
  std::vector<std::vector<uint8_t>> rows{};
  bool pad_last_row = true;
};

inline std::vector<uint8_t> make_bmp(const BmpSpec& spec) {
  const bool masks_after_header = spec.header_size == 40 && !spec.masks.empty();
  const uint32_t entry = spec.header_size == 12 ? 3 : 4;
  const uint32_t offset = 14 + spec.header_size + (masks_after_header ? 12 : 0) +
                          static_cast<uint32_t>(spec.palette_bgr.size()) * entry;
  std::vector<uint8_t> out;
  out.push_back('B');
  out.push_back('M');
  put_u32le(out, 0);  // file size, patched below
  put_u32le(out, 0);
  put_u32le(out, offset);
  put_u32le(out, spec.header_size);
  if (spec.header_size == 12) {
    put_u16le(out, spec.width);
    put_u16le(out, spec.height);
    put_u16le(out, 1);
    put_u16le(out, spec.bits_per_pixel);
  } else {
    put_u32le(out, static_cast<uint32_t>(spec.width));
    put_u32le(out, static_cast<uint32_t>(spec.height));
    put_u16le(out, 1);
    put_u16le(out, spec.bits_per_pixel);
    put_u32le(out, spec.compression);
    put_u32le(out, 0);     // image size
    put_u32le(out, 2835);  // 72 dpi
    put_u32le(out, 2835);
    put_u32le(out, spec.colors_used);
    put_u32le(out, 0);
    // V4/V5 header tail: the masks first, then zeros (colour space fields are ignored).
    const size_t header_end = 14 + spec.header_size;
    if (spec.header_size > 40) {
      for (size_t i = 0; i < 4; ++i) put_u32le(out, i < spec.masks.size() ? spec.masks[i] : 0);
    }
    while (out.size() < header_end) out.push_back(0);
    if (masks_after_header) {
      for (uint32_t mask : spec.masks) put_u32le(out, mask);
    }
  }
  for (const auto& bgr : spec.palette_bgr) {
    out.insert(out.end(), bgr.begin(), bgr.end());
    if (entry == 4) out.push_back(0);
  }
  const int rows = static_cast<int>(spec.rows.size());
  for (int i = 0; i < rows; ++i) {
    // Bottom-up files store the last image row first.
    const auto& row = spec.rows[spec.height < 0 ? i : rows - 1 - i];
    out.insert(out.end(), row.begin(), row.end());
    // Rows are padded to a multiple of 4 bytes.
    if (i + 1 < rows || spec.pad_last_row) out.resize(out.size() + (4 - row.size() % 4) % 4, 0);
  }
  set_u32le(out, 2, static_cast<uint32_t>(out.size()));
  return out;
}

inline uint32_t crc32(const uint8_t* data, size_t size, uint32_t crc = 0) {
  crc = ~crc;
  for (size_t i = 0; i < size; ++i) {
    crc ^= data[i];
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
  }
  return ~crc;
}

inline void put_png_chunk(std::vector<uint8_t>& out, const char* type,
                          const std::vector<uint8_t>& data) {
  put_u32be(out, static_cast<uint32_t>(data.size()));
  const size_t start = out.size();
  out.insert(out.end(), type, type + 4);
  out.insert(out.end(), data.begin(), data.end());
  put_u32be(out, crc32(out.data() + start, out.size() - start));
}

// A zlib stream of `raw` in stored deflate blocks.
inline std::vector<uint8_t> zlib_stored(const std::vector<uint8_t>& raw) {
  std::vector<uint8_t> out = {0x78, 0x01};
  size_t pos = 0;
  do {
    const size_t n = std::min<size_t>(65535, raw.size() - pos);
    out.push_back(pos + n == raw.size() ? 1 : 0);  // BFINAL, BTYPE = 00
    put_u16le(out, static_cast<uint32_t>(n));
    put_u16le(out, static_cast<uint32_t>(~n & 0xFFFF));
    out.insert(out.end(), raw.begin() + pos, raw.begin() + pos + n);
    pos += n;
  } while (pos < raw.size());
  uint32_t a = 1, b = 0;
  for (uint8_t byte : raw) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  put_u32be(out, (b << 16) | a);
  return out;
}

struct PngSpec {
  uint32_t width = 0;
  uint32_t height = 0;
  int bit_depth = 8;
  int color_type = 0;  // 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA
  std::vector<std::array<uint8_t, 3>> palette{};
  std::vector<uint8_t> transparency{};  // tRNS payload, if any
  // Packed sample bytes of each row in PNG order (16-bit big-endian), without the filter byte.
  std::vector<std::vector<uint8_t>> rows{};
};

inline std::vector<uint8_t> make_png(const PngSpec& spec) {
  std::vector<uint8_t> out = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  std::vector<uint8_t> ihdr;
  put_u32be(ihdr, spec.width);
  put_u32be(ihdr, spec.height);
  ihdr.push_back(static_cast<uint8_t>(spec.bit_depth));
  ihdr.push_back(static_cast<uint8_t>(spec.color_type));
  ihdr.insert(ihdr.end(), {0, 0, 0});
  put_png_chunk(out, "IHDR", ihdr);
  if (!spec.palette.empty()) {
    std::vector<uint8_t> plte;
    for (const auto& rgb : spec.palette) plte.insert(plte.end(), rgb.begin(), rgb.end());
    put_png_chunk(out, "PLTE", plte);
  }
  if (!spec.transparency.empty()) put_png_chunk(out, "tRNS", spec.transparency);
  std::vector<uint8_t> raw;
  for (const auto& row : spec.rows) {
    raw.push_back(0);  // filter: none
    raw.insert(raw.end(), row.begin(), row.end());
  }
  put_png_chunk(out, "IDAT", zlib_stored(raw));
  put_png_chunk(out, "IEND", {});
  return out;
}

}  // namespace qseg::test

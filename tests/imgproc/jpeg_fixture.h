// JPEG files for tests and fuzz seeds: an RGB photo encoded here with libjpeg, and APP1 Exif
// segments (written byte by byte, independently of the decoder) to insert after its SOI marker.
#pragma once

// jpeglib.h needs FILE and size_t declared before it.
// clang-format off
#include <cstdio>
#include <cstdlib>
#include <jpeglib.h>
// clang-format on

#include <cstdint>
#include <vector>

namespace qseg::test {

// A baseline JPEG of `rgb` (width * height * 3 bytes, top row first) at quality 100, 4:4:4.
inline std::vector<uint8_t> encode_rgb_jpeg(const std::vector<uint8_t>& rgb, int width,
                                            int height) {
  jpeg_compress_struct cinfo{};
  jpeg_error_mgr errors{};
  cinfo.err = jpeg_std_error(&errors);
  jpeg_create_compress(&cinfo);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&cinfo, &buffer, &size);
  cinfo.image_width = width;
  cinfo.image_height = height;
  cinfo.input_components = 3;
  cinfo.in_color_space = JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, 100, TRUE);
  for (int i = 0; i < cinfo.num_components; ++i)
    cinfo.comp_info[i].h_samp_factor = cinfo.comp_info[i].v_samp_factor = 1;
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<uint8_t*>(rgb.data()) + size_t{cinfo.next_scanline} * width * 3;
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  std::vector<uint8_t> bytes(buffer, buffer + size);
  std::free(buffer);
  return bytes;
}

// An APP1 Exif segment (FF E1, length, "Exif\0\0", TIFF header, IFD0) whose IFD0 holds an
// ImageDescription entry and then Orientation = `orientation`, in either byte order.
inline std::vector<uint8_t> exif_segment(int orientation, bool big_endian) {
  std::vector<uint8_t> tiff;
  const auto u16 = [&](uint32_t v) {
    if (big_endian) {
      tiff.push_back(v >> 8 & 0xFF);
      tiff.push_back(v & 0xFF);
    } else {
      tiff.push_back(v & 0xFF);
      tiff.push_back(v >> 8 & 0xFF);
    }
  };
  const auto u32 = [&](uint32_t v) {
    if (big_endian) {
      u16(v >> 16);
      u16(v & 0xFFFF);
    } else {
      u16(v & 0xFFFF);
      u16(v >> 16);
    }
  };
  tiff.push_back(big_endian ? 'M' : 'I');
  tiff.push_back(big_endian ? 'M' : 'I');
  u16(42);
  u32(8);       // IFD0 right after the header
  u16(2);       // two entries
  u16(0x010E);  // ImageDescription, ASCII, 4 bytes inline: "abc\0"
  u16(2);
  u32(4);
  for (char ch : {'a', 'b', 'c', '\0'}) tiff.push_back(static_cast<uint8_t>(ch));
  u16(0x0112);  // Orientation, SHORT, 1 value, left-justified in the 4-byte field
  u16(3);
  u32(1);
  u16(static_cast<uint32_t>(orientation));
  u16(0);
  u32(0);  // no next IFD
  std::vector<uint8_t> segment = {0xFF, 0xE1, 0, 0, 'E', 'x', 'i', 'f', 0, 0};
  segment.insert(segment.end(), tiff.begin(), tiff.end());
  const size_t length = segment.size() - 2;
  segment[2] = static_cast<uint8_t>(length >> 8);
  segment[3] = static_cast<uint8_t>(length & 0xFF);
  return segment;
}

// `jpeg` with `segment` inserted right after its SOI marker (FF D8), as cameras write Exif.
inline std::vector<uint8_t> with_segment(std::vector<uint8_t> jpeg,
                                         const std::vector<uint8_t>& segment) {
  jpeg.insert(jpeg.begin() + 2, segment.begin(), segment.end());
  return jpeg;
}

}  // namespace qseg::test

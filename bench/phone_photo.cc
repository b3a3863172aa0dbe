// Makes phone-sized test photos from small ones: the photo scaled up (bilinear) to 4032x3024 or
// any size, with a deterministic fine texture added (+-10 levels, what sensor noise and real
// detail give a 12 MP JPEG: an upscaled photo alone is far smoother and decodes faster than a
// real one), written as a baseline 4:2:0 JPEG at quality 92 as phones write them; --sideways
// stores it turned a quarter with EXIF orientation 6, as a phone held upright does. --scale N
// enlarges N times instead; --label enlarges a label map (nearest, ids kept) to go with it.
// Usage: qseg_phone_photo IN OUT.jpg [WIDTH HEIGHT] [--sideways]   (bench/phone_photo.sh)
//        qseg_phone_photo --scale N IN OUT.jpg | --scale N --label IN.png OUT.png
//        (scripts/large_photo_accuracy.sh)
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "imgproc/image_io.h"
#include "imgproc/image_ops.h"

namespace {

// The APP1 Exif segment of a little-endian TIFF header with one IFD0 entry: orientation.
std::vector<uint8_t> exif_orientation_segment(uint16_t orientation) {
  const uint8_t tiff[] = {'I',
                          'I',
                          42,
                          0,
                          8,
                          0,
                          0,
                          0,  // header, IFD0 at offset 8
                          1,
                          0,  // one entry
                          0x12,
                          0x01,
                          3,
                          0,
                          1,
                          0,
                          0,
                          0,  // tag 0x0112, SHORT, count 1
                          static_cast<uint8_t>(orientation),
                          0,
                          0,
                          0,  // the value
                          0,
                          0,
                          0,
                          0};  // no next IFD
  std::vector<uint8_t> body = {'E', 'x', 'i', 'f', 0, 0};
  body.insert(body.end(), tiff, tiff + sizeof(tiff));
  const size_t length = body.size() + 2;
  std::vector<uint8_t> segment = {0xFF, 0xE1, static_cast<uint8_t>(length >> 8),
                                  static_cast<uint8_t>(length & 0xFF)};
  segment.insert(segment.end(), body.begin(), body.end());
  return segment;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  bool sideways = false, label = false;
  int scale = 0;
  for (auto it = args.begin(); it != args.end();) {
    if (*it == "--sideways" || *it == "--label") {
      (*it == "--label" ? label : sideways) = true;
      it = args.erase(it);
    } else if (*it == "--scale" && it + 1 != args.end()) {
      scale = std::stoi(*(it + 1));
      it = args.erase(it, it + 2);
    } else {
      ++it;
    }
  }
  if (label && scale > 0 && args.size() == 2) {
    auto labels = qseg::read_label_image(args[0]);
    if (!labels.is_ok()) {
      std::fprintf(stderr, "qseg_phone_photo: %s\n", labels.status().message().c_str());
      return 1;
    }
    const qseg::Image big =
        qseg::resize_nearest(*labels, labels->width * scale, labels->height * scale, false);
    return qseg::write_label_png(args[1], big).is_ok() ? 0 : 1;
  }
  if (args.size() != 2 && args.size() != 4) {
    std::fprintf(stderr,
                 "usage: qseg_phone_photo IN OUT.jpg [WIDTH HEIGHT] [--sideways] | --scale N "
                 "[--label] IN OUT\n");
    return 2;
  }
  auto small = qseg::read_image(args[0]);
  if (!small.is_ok()) {
    std::fprintf(stderr, "qseg_phone_photo: %s\n", small.status().message().c_str());
    return 1;
  }
  const int width = scale > 0 ? small->width * scale : args.size() == 4 ? std::stoi(args[2]) : 4032;
  const int height = scale > 0          ? small->height * scale
                     : args.size() == 4 ? std::stoi(args[3])
                                        : 3024;
  qseg::Image big = qseg::resize_bilinear(*small, width, height, false);
  uint32_t state = 12345;
  for (uint8_t& v : big.pixels) {
    state = state * 1664525u + 1013904223u;  // a fixed LCG: the same file every run
    const int noise = static_cast<int>((state >> 24) % 21) - 10;
    const int value = v + noise;
    v = static_cast<uint8_t>(value < 0 ? 0 : value > 255 ? 255 : value);
  }
  if (sideways) {  // EXIF 6: displayed (x, y) is stored (column y, row width - 1 - x)
    qseg::Image stored(height, width, 3);
    for (int row = 0; row < width; ++row) {
      for (int column = 0; column < height; ++column) {
        std::memcpy(stored.row(row) + column * 3, big.row(column) + (width - 1 - row) * 3, 3);
      }
    }
    big = std::move(stored);
  }
  auto jpeg = qseg::encode_jpeg(big, args[1], 92);
  if (!jpeg.is_ok()) {
    std::fprintf(stderr, "qseg_phone_photo: %s\n", jpeg.status().message().c_str());
    return 1;
  }
  std::vector<uint8_t> bytes = *jpeg;
  if (sideways) {
    const std::vector<uint8_t> segment = exif_orientation_segment(6);
    bytes.insert(bytes.begin() + 2, segment.begin(), segment.end());  // right after SOI
  }
  if (!qseg::write_file_atomically(args[1], bytes).is_ok()) {
    std::fprintf(stderr, "qseg_phone_photo: cannot write %s\n", args[1].c_str());
    return 1;
  }
  return 0;
}

// How long a 12 MP overlay takes to draw and to write: the annotated overlay, PNG (qseg's
// encoder, zlib Z_RLE) against baseline JPEG at quality 90 (libjpeg-turbo, in memory), to decide
// whether `qseg segment` needs a faster overlay format. Usage: qseg_overlay_bench PHOTO MASK.png
// (e.g. /work/shared/images/bird.bmp and the bird.png that `qseg segment` writes); both are
// scaled to 4000x3000.
// clang-format off
#include <cstdio>
#include <jpeglib.h>
// clang-format on

#include <chrono>
#include <cstdlib>

#include "imgproc/annotated_overlay.h"
#include "imgproc/image_io.h"
#include "imgproc/image_ops.h"

namespace {

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

size_t jpeg_bytes(const qseg::Image& image) {
  jpeg_compress_struct cinfo{};
  jpeg_error_mgr error{};
  cinfo.err = jpeg_std_error(&error);
  jpeg_create_compress(&cinfo);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&cinfo, &buffer, &size);
  cinfo.image_width = image.width;
  cinfo.image_height = image.height;
  cinfo.input_components = 3;
  cinfo.in_color_space = JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, 90, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<uint8_t*>(image.row(static_cast<int>(cinfo.next_scanline)));
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  std::free(buffer);
  return size;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: qseg_overlay_bench PHOTO MASK.png\n");
    return 2;
  }
  auto photo = qseg::read_image(argv[1]);
  auto mask = qseg::read_label_image(argv[2]);
  if (!photo.is_ok() || !mask.is_ok()) {
    std::fprintf(stderr, "qseg_overlay_bench: cannot read the photo or the mask\n");
    return 1;
  }
  const qseg::Image big = qseg::resize_bilinear(*photo, 4000, 3000, false);
  const qseg::Image labels = qseg::resize_nearest(*mask, 4000, 3000, false);
  for (int run = 0; run < 3; ++run) {
    auto start = std::chrono::steady_clock::now();
    const qseg::Image shown =
        qseg::annotated_overlay(big, labels, qseg::ClassSet::voc(), qseg::OverlayOptions{});
    const double draw_ms = ms_since(start);
    start = std::chrono::steady_clock::now();
    auto png = qseg::encode_png(shown, "overlay");
    const double png_ms = ms_since(start);
    start = std::chrono::steady_clock::now();
    const size_t jpeg = jpeg_bytes(shown);
    const double jpeg_ms = ms_since(start);
    std::printf("12 MP overlay: draw %.0f ms; PNG %.0f ms, %.1f MB; JPEG q90 %.0f ms, %.1f MB\n",
                draw_ms, png_ms, png.is_ok() ? png->size() / 1e6 : 0.0, jpeg_ms, jpeg / 1e6);
  }
  return 0;
}

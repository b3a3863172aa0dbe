// How long a 12 MP overlay takes to draw and to write: the annotated overlay, PNG (qseg's
// encoder, zlib Z_RLE) against baseline JPEG at quality 90 (qseg's encode_jpeg, what
// --overlay-format jpg writes), to decide whether `qseg segment` needs a faster overlay format;
// and the 12 MP mask's palette PNG.
// Usage: qseg_overlay_bench PHOTO MASK.png (e.g. /work/shared/images/bird.bmp and the bird.png that
// `qseg segment` writes); both are scaled to 4000x3000.
#include <chrono>
#include <cstdio>

#include "imgproc/annotated_overlay.h"
#include "imgproc/image_io.h"
#include "imgproc/image_ops.h"

namespace {

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
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
    auto jpeg = qseg::encode_jpeg(shown, "overlay", 90);  // what --overlay-format jpg writes
    const double jpeg_ms = ms_since(start);
    start = std::chrono::steady_clock::now();
    auto mask_png = qseg::encode_label_png(labels, "mask");  // what segment writes as the mask
    const double mask_ms = ms_since(start);
    std::printf(
        "12 MP overlay: draw %.0f ms; PNG %.0f ms, %.1f MB; JPEG q90 %.0f ms, %.1f MB; "
        "12 MP mask PNG %.1f ms, %.2f MB\n",
        draw_ms, png_ms, png.is_ok() ? png->size() / 1e6 : 0.0, jpeg_ms,
        jpeg.is_ok() ? jpeg->size() / 1e6 : 0.0, mask_ms,
        mask_png.is_ok() ? mask_png->size() / 1e6 : 0.0);
  }
  return 0;
}

// fuzz_image: any bytes through the photo and label-map decoders (JPEG, PNG, BMP, WebP).
#include <cstdlib>

#include "fuzz_bodies.h"
#include "imgproc/image_io.h"

namespace qseg::fuzz {
namespace {

ImageLimits small_image_limits() {
  // Room for every photo of the seed corpus (VOC photos are at most 500x500) but not for a
  // header that claims gigapixels: the decoders must refuse it before allocating.
  ImageLimits limits;
  limits.max_pixels = int64_t{1} << 20;
  limits.max_side = 4096;
  limits.max_file_bytes = int64_t{8} << 20;
  return limits;
}

}  // namespace

void fuzz_image(std::span<const uint8_t> bytes) {
  const ImageLimits limits = small_image_limits();
  Result<Image> photo = decode_image(bytes, "fuzz", limits);
  if (photo.is_ok()) {
    const Image& image = photo.value();
    // What every decoder promises: 3 channels and exactly width * height * 3 bytes.
    if (image.channels != 3 || image.width <= 0 || image.height <= 0 ||
        image.pixels.size() != static_cast<size_t>(image.width) * image.height * 3)
      std::abort();
  }
  // The reduced decode (what segment and eval use for large JPEGs) at a small box, so that seeds
  // reach the 1/2, 1/4 and 1/8 DCT scales: the same promise, and the full size within the limits.
  Result<DecodedPhoto> reduced = decode_photo_for_box(bytes, "fuzz", 16, 16, limits);
  if (reduced.is_ok()) {
    const DecodedPhoto& p = reduced.value();
    if (p.image.channels != 3 || p.image.width <= 0 || p.image.height <= 0 ||
        p.image.width > p.width || p.image.height > p.height ||
        p.image.pixels.size() != static_cast<size_t>(p.image.width) * p.image.height * 3)
      std::abort();
  }
  Result<Image> labels = decode_label_image(bytes, "fuzz", limits);
  if (!labels.is_ok()) return;
  const Image& ids = labels.value();
  if (ids.channels != 1 || ids.width <= 0 || ids.height <= 0 ||
      ids.pixels.size() != static_cast<size_t>(ids.width) * ids.height)
    std::abort();
  // Small label maps make the round trip through the palette PNG encoder: ids must survive.
  if (ids.pixels.size() > 4096) return;
  Result<std::vector<uint8_t>> png = encode_label_png(ids, "fuzz");
  if (!png.is_ok()) std::abort();
  Result<Image> back = decode_label_image(png.value(), "fuzz", limits);
  if (!back.is_ok() || back.value().pixels != ids.pixels) std::abort();
}

}  // namespace qseg::fuzz

// WebP decoding through libwebp (lossy and lossless stills), from memory. Photos only: WebP is not
// a label format here (a lossy file cannot carry exact class ids).
#include <webp/decode.h>

#include "imgproc/io_internal.h"

namespace qseg::io {

Result<Image> decode_webp(std::span<const uint8_t> bytes, std::string_view name,
                          const ImageLimits& limits) {
  WebPBitstreamFeatures features;
  const VP8StatusCode probe = WebPGetFeatures(bytes.data(), bytes.size(), &features);
  if (probe == VP8_STATUS_NOT_ENOUGH_DATA) return file_error(name, "truncated WebP");
  if (probe != VP8_STATUS_OK) return file_error(name, "corrupt WebP header");
  if (features.has_animation) {
    return file_error(name, "animated WebP is not supported; export one frame as JPEG or PNG");
  }
  QSEG_RETURN_IF_ERROR(check_dimensions(name, "WebP", features.width, features.height, limits));
  Image image(features.width, features.height, 3);
  const int stride = features.width * 3;
  // Alpha, when the file has it, is dropped as for PNG photos: the colour under it is kept.
  if (WebPDecodeRGBInto(bytes.data(), bytes.size(), image.pixels.data(), image.pixels.size(),
                        stride) == nullptr) {
    return file_error(name, "truncated or corrupt WebP data");
  }
  return image;
}

}  // namespace qseg::io

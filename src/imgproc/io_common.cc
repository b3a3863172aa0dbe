// Image files: format detection, dispatch to the codecs, whole-file reads and writes.
// Also the checks and error wording the decoders share (see image_io.h).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "imgproc/image_ops.h"
#include "imgproc/io_internal.h"
#include "io/durable_write.h"

namespace qseg {
namespace io {

Status file_error(std::string_view name, std::string_view message) {
  std::string text(name);
  text += ": ";
  text += message;
  return Status::error(std::move(text));
}

Status label_format_error(std::string_view name, std::string_view what, DecodeTarget target) {
  const char* formats = target == DecodeTarget::kLabelValues ? "palette, 8-bit or 16-bit gray"
                                                             : "palette or 8-bit gray";
  return file_error(name,
                    std::string("label image must be ") + formats + ", got " + std::string(what));
}

Status check_dimensions(std::string_view name, std::string_view format, int64_t width,
                        int64_t height, const ImageLimits& limits) {
  const std::string size = std::to_string(width) + "x" + std::to_string(height);
  if (width <= 0 || height <= 0) {
    return file_error(name, std::string(format) + " has invalid dimensions " + size);
  }
  if (width > limits.max_side || height > limits.max_side) {
    return file_error(name, std::string(format) + " dimensions " + size + " exceed the limit of " +
                                std::to_string(limits.max_side) + " pixels per side");
  }
  // Both factors are at most max_side (an int), so the product fits in int64.
  if (width * height > limits.max_pixels) {
    return file_error(name, std::string(format) + " dimensions " + size + " exceed the limit of " +
                                std::to_string(limits.max_pixels) +
                                " pixels (qseg's --max-image-mp raises it)");
  }
  return Status::ok();
}

}  // namespace io

namespace {

std::string errno_text(int error) {
  return std::error_code(error, std::generic_category()).message();
}

// Closes a file descriptor when it goes out of scope.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

Result<Image> decode_as(std::span<const uint8_t> bytes, std::string_view name,
                        const ImageLimits& limits, io::DecodeTarget target) {
  if (bytes.empty()) return io::file_error(name, "empty file");
  switch (detect_image_format(bytes)) {
    case ImageFormat::kJpeg:
      if (target != io::DecodeTarget::kRgb) return io::label_format_error(name, "JPEG", target);
      return io::decode_jpeg(bytes, name, limits);
    case ImageFormat::kPng:
      return io::decode_png(bytes, name, limits, target);
    case ImageFormat::kBmp:
      return io::decode_bmp(bytes, name, limits,
                            target == io::DecodeTarget::kRgb ? target : io::DecodeTarget::kLabels);
    case ImageFormat::kWebp:
      if (target != io::DecodeTarget::kRgb) return io::label_format_error(name, "WebP", target);
      return io::decode_webp(bytes, name, limits);
    case ImageFormat::kUnknown:
      break;
  }
  return io::file_error(name, "not a JPEG, PNG, BMP or WebP file");
}

}  // namespace

ImageFormat detect_image_format(std::span<const uint8_t> bytes) {
  static constexpr uint8_t kPngSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (bytes.size() >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF) {
    return ImageFormat::kJpeg;
  }
  if (bytes.size() >= 8 && std::memcmp(bytes.data(), kPngSignature, 8) == 0) {
    return ImageFormat::kPng;
  }
  if (bytes.size() >= 2 && bytes[0] == 'B' && bytes[1] == 'M') return ImageFormat::kBmp;
  if (bytes.size() >= 12 && std::memcmp(bytes.data(), "RIFF", 4) == 0 &&
      std::memcmp(bytes.data() + 8, "WEBP", 4) == 0) {
    return ImageFormat::kWebp;
  }
  return ImageFormat::kUnknown;
}

Result<Image> decode_image(std::span<const uint8_t> bytes, std::string_view name,
                           const ImageLimits& limits) {
  return decode_as(bytes, name, limits, io::DecodeTarget::kRgb);
}

Result<DecodedPhoto> decode_photo_for_box(std::span<const uint8_t> bytes, std::string_view name,
                                          int box_width, int box_height,
                                          const ImageLimits& limits) {
  if (detect_image_format(bytes) == ImageFormat::kJpeg) {
    return io::decode_jpeg_for_box(bytes, name, box_width, box_height, limits);
  }
  DecodedPhoto photo;
  QSEG_ASSIGN_OR_RETURN(photo.image, decode_image(bytes, name, limits));
  photo.width = photo.image.width;
  photo.height = photo.image.height;
  return photo;
}

Result<DecodedPhoto> read_photo_for_box(const std::filesystem::path& path, int box_width,
                                        int box_height, const ImageLimits& limits) {
  QSEG_ASSIGN_OR_RETURN(const std::vector<uint8_t> bytes,
                        read_file_bytes(path, limits.max_file_bytes));
  return decode_photo_for_box(bytes, path.string(), box_width, box_height, limits);
}

Result<Image> decode_label_image(std::span<const uint8_t> bytes, std::string_view name,
                                 const ImageLimits& limits) {
  return decode_as(bytes, name, limits, io::DecodeTarget::kLabels);
}

Result<Image> read_image(const std::filesystem::path& path, const ImageLimits& limits) {
  QSEG_ASSIGN_OR_RETURN(const std::vector<uint8_t> bytes,
                        read_file_bytes(path, limits.max_file_bytes));
  return decode_image(bytes, path.string(), limits);
}

Result<Image> read_label_image(const std::filesystem::path& path, const ImageLimits& limits) {
  QSEG_ASSIGN_OR_RETURN(const std::vector<uint8_t> bytes,
                        read_file_bytes(path, limits.max_file_bytes));
  return decode_label_image(bytes, path.string(), limits);
}

Result<LabelValues> decode_label_values(std::span<const uint8_t> bytes, std::string_view name,
                                        const ImageLimits& limits) {
  QSEG_ASSIGN_OR_RETURN(const Image image,
                        decode_as(bytes, name, limits, io::DecodeTarget::kLabelValues));
  LabelValues out;
  out.width = image.width;
  out.height = image.height;
  const size_t count = static_cast<size_t>(image.width) * image.height;
  out.values.resize(count);
  if (image.channels == 2) {  // 16-bit gray: big-endian pairs
    for (size_t i = 0; i < count; ++i)
      out.values[i] = static_cast<uint16_t>(image.pixels[2 * i] << 8 | image.pixels[2 * i + 1]);
  } else {
    for (size_t i = 0; i < count; ++i) out.values[i] = image.pixels[i];
  }
  return out;
}

Result<LabelValues> read_label_values(const std::filesystem::path& path,
                                      const ImageLimits& limits) {
  QSEG_ASSIGN_OR_RETURN(const std::vector<uint8_t> bytes,
                        read_file_bytes(path, limits.max_file_bytes));
  return decode_label_values(bytes, path.string(), limits);
}

Result<std::vector<uint8_t>> encode_png(const Image& image, std::string_view name) {
  return io::encode_png_bytes(image, name, nullptr);
}

Result<std::vector<uint8_t>> encode_label_png(const Image& labels, std::string_view name) {
  return io::encode_png_bytes(labels, name, &voc_colormap());
}

Result<std::vector<uint8_t>> encode_label_png(
    const Image& labels, std::string_view name,
    const std::array<std::array<uint8_t, 3>, 256>& palette) {
  return io::encode_png_bytes(labels, name, &palette);
}

Status write_png(const std::filesystem::path& path, const Image& image) {
  QSEG_ASSIGN_OR_RETURN(const std::vector<uint8_t> bytes, encode_png(image, path.string()));
  return write_file_atomically(path, bytes);
}

Status write_label_png(const std::filesystem::path& path, const Image& labels) {
  return write_label_png(path, labels, voc_colormap());
}

Status write_label_png(const std::filesystem::path& path, const Image& labels,
                       const std::array<std::array<uint8_t, 3>, 256>& palette) {
  QSEG_ASSIGN_OR_RETURN(const std::vector<uint8_t> bytes,
                        encode_label_png(labels, path.string(), palette));
  return write_file_atomically(path, bytes);
}

Result<std::vector<uint8_t>> read_file_bytes(const std::filesystem::path& path, int64_t max_bytes) {
  const std::string name = path.string();
  FileDescriptor file(::open(name.c_str(), O_RDONLY | O_CLOEXEC));
  if (file.get() < 0) return Status::error("cannot open " + name + ": " + errno_text(errno));
  struct stat info {};
  if (::fstat(file.get(), &info) != 0) {
    return Status::error("cannot read " + name + ": " + errno_text(errno));
  }
  if (S_ISDIR(info.st_mode))
    return Status::error("cannot read " + name + ": " + errno_text(EISDIR));
  const std::string too_large = "file is larger than " + std::to_string(max_bytes) + " bytes";
  if (info.st_size > max_bytes) return io::file_error(name, too_large);

  // st_size is only a hint (0 for pipes; files can grow): read until end of file.
  std::vector<uint8_t> bytes(static_cast<size_t>(info.st_size > 0 ? info.st_size : 0) + 1);
  size_t used = 0;
  while (true) {
    if (used == bytes.size()) {
      if (static_cast<int64_t>(used) > max_bytes) return io::file_error(name, too_large);
      bytes.resize(std::max<size_t>(bytes.size() * 2, 65536));
    }
    const ssize_t n = ::read(file.get(), bytes.data() + used, bytes.size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::error("cannot read " + name + ": " + errno_text(errno));
    if (n == 0) break;
    used += static_cast<size_t>(n);
  }
  if (static_cast<int64_t>(used) > max_bytes) return io::file_error(name, too_large);
  bytes.resize(used);
  return bytes;
}

Status write_file_atomically(const std::filesystem::path& path, std::span<const uint8_t> bytes) {
  return io::write_file_durably(path, bytes.data(), bytes.size());
}

}  // namespace qseg

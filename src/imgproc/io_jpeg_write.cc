// JPEG encoding through libjpeg-turbo (for large overlays: a 12 MP overlay encodes about 20x
// faster than as PNG, see BENCHMARKS.md), with libjpeg's fatal errors turned into a Status.

// jpeglib.h needs FILE and size_t declared before it.
// clang-format off
#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <jerror.h>
#include <jpeglib.h>
// clang-format on

#include <string>

#include "imgproc/image_io.h"

namespace qseg {
namespace {

// What must survive a longjmp lives here, in the caller's frame (as in io_jpeg.cc).
struct JpegWriteJob {
  jpeg_compress_struct cinfo{};
  jpeg_error_mgr error_manager{};
  std::jmp_buf jump{};
  char message[JMSG_LENGTH_MAX] = {};
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
};

[[noreturn]] void on_error_exit(j_common_ptr cinfo) {
  auto* job = static_cast<JpegWriteJob*>(cinfo->client_data);
  (*cinfo->err->format_message)(cinfo, job->message);
  std::longjmp(job->jump, 1);
}

bool run_encode(JpegWriteJob& job, const Image& image, int quality) {
  job.cinfo.err = jpeg_std_error(&job.error_manager);
  job.error_manager.error_exit = on_error_exit;
  job.cinfo.client_data = &job;
  if (setjmp(job.jump) != 0) return false;  // NOLINT(cert-err52-cpp)
  jpeg_create_compress(&job.cinfo);
  jpeg_mem_dest(&job.cinfo, &job.buffer, &job.size);
  job.cinfo.image_width = static_cast<JDIMENSION>(image.width);
  job.cinfo.image_height = static_cast<JDIMENSION>(image.height);
  job.cinfo.input_components = image.channels;
  job.cinfo.in_color_space = image.channels == 3 ? JCS_RGB : JCS_GRAYSCALE;
  jpeg_set_defaults(&job.cinfo);
  jpeg_set_quality(&job.cinfo, quality, TRUE);
  jpeg_start_compress(&job.cinfo, TRUE);
  while (job.cinfo.next_scanline < job.cinfo.image_height) {
    // libjpeg takes non-const rows but only reads them.
    JSAMPROW row = const_cast<uint8_t*>(image.row(static_cast<int>(job.cinfo.next_scanline)));
    jpeg_write_scanlines(&job.cinfo, &row, 1);
  }
  jpeg_finish_compress(&job.cinfo);
  return true;
}

}  // namespace

Result<std::vector<uint8_t>> encode_jpeg(const Image& image, std::string_view name, int quality) {
  if (image.width <= 0 || image.height <= 0 || image.channels <= 0 ||
      image.pixels.size() != static_cast<size_t>(image.width) * image.height * image.channels) {
    return Status::error(std::string(name) + ": cannot encode an empty or malformed image as JPEG");
  }
  if (image.channels != 1 && image.channels != 3)
    return Status::error(std::string(name) + ": JPEG needs 1 or 3 channels");
  JpegWriteJob job;
  const bool ok = run_encode(job, image, quality);
  jpeg_destroy_compress(&job.cinfo);
  std::vector<uint8_t> bytes;
  if (ok) bytes.assign(job.buffer, job.buffer + job.size);
  std::free(job.buffer);
  if (!ok) return Status::error(std::string(name) + ": JPEG encoding failed: " + job.message);
  return bytes;
}

Status write_jpeg(const std::filesystem::path& path, const Image& image, int quality) {
  QSEG_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, encode_jpeg(image, path.string(), quality));
  return write_file_atomically(path, bytes);
}

}  // namespace qseg

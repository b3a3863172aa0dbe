// JPEG decoding through libjpeg-turbo, with libjpeg's fatal errors and data-corruption warnings
// turned into a Status (setjmp/longjmp error manager; nothing is printed, nothing aborts).

// jpeglib.h needs FILE and size_t declared before it.
// clang-format off
#include <csetjmp>
#include <cstdio>
#include <jerror.h>
#include <jpeglib.h>
// clang-format on

#include "imgproc/io_internal.h"

namespace qseg::io {
namespace {

// Progressive JPEGs may hold any number of scans, each re-reading the whole image: a few hundred
// is already absurd (libjpeg-turbo's own tools suggest a limit like this against DoS files).
constexpr int kMaxScans = 500;

// Everything the decode needs that must survive a longjmp: it lives in the caller's frame, so
// jumping back to the setjmp point skips no destructor and leaves no local indeterminate.
struct JpegJob {
  std::span<const uint8_t> bytes;
  std::string_view name;
  const ImageLimits* limits = nullptr;
  // Decode at 1/denominator of the stored size (libjpeg-turbo's DCT scaling: 1, 2, 4 or 8), the
  // smallest that still covers the photo fitted into box_width x box_height (0 x 0: full size).
  int box_width = 0, box_height = 0;
  int orientation = 1;
  int stored_width = 0, stored_height = 0;

  jpeg_decompress_struct cinfo{};
  jpeg_error_mgr error_manager{};
  jpeg_progress_mgr progress{};
  std::jmp_buf jump{};
  char libjpeg_message[JMSG_LENGTH_MAX] = {};

  Image image;
  Status status;  // set when the decode fails for a reason of our own
};

JpegJob* job_of(j_common_ptr cinfo) { return static_cast<JpegJob*>(cinfo->client_data); }

[[noreturn]] void on_error_exit(j_common_ptr cinfo) {
  JpegJob* job = job_of(cinfo);
  (*cinfo->err->format_message)(cinfo, job->libjpeg_message);
  // libjpeg's documented way out of an error: the C library cannot unwind C++ exceptions.
  std::longjmp(job->jump, 1);  // NOLINT(cert-err52-cpp)
}

// Warnings that mean the image data is damaged (truncated file, bad entropy codes): libjpeg
// would fill the rest with gray and carry on, we fail instead. Others (metadata) are ignored.
bool is_corrupt_data_warning(int code) {
  switch (code) {
    case JWRN_JPEG_EOF:
    case JWRN_HIT_MARKER:
    case JWRN_HUFF_BAD_CODE:
#if JPEG_LIB_VERSION >= 70  // otherwise declared only with arithmetic coding
    case JWRN_ARITH_BAD_CODE:
#endif
    case JWRN_MUST_RESYNC:
      return true;
    default:
      return false;
  }
}

void on_emit_message(j_common_ptr cinfo, int msg_level) {
  if (msg_level < 0) {  // a warning; levels >= 0 are trace messages
    if (is_corrupt_data_warning(cinfo->err->msg_code)) on_error_exit(cinfo);
    cinfo->err->num_warnings++;
  }
}

void on_output_message(j_common_ptr) {}  // never print

void on_progress(j_common_ptr cinfo) {
  const auto* decompress = reinterpret_cast<j_decompress_ptr>(cinfo);
  if (decompress->input_scan_number > kMaxScans) {
    JpegJob* job = job_of(cinfo);
    (void)std::snprintf(job->libjpeg_message, sizeof(job->libjpeg_message),
                        "more than %d progressive scans", kMaxScans);
    std::longjmp(job->jump, 1);  // NOLINT(cert-err52-cpp): see on_error_exit
  }
}

enum class Outcome { kDone, kLibjpegError, kRejected };

// The libjpeg calls, between setjmp and longjmp. Only trivially destructible locals here; every
// object with a destructor is in `job`. The caller destroys the decompressor in every case.
Outcome run_decode(JpegJob& job) {
  jpeg_decompress_struct& cinfo = job.cinfo;
  cinfo.err = jpeg_std_error(&job.error_manager);
  job.error_manager.error_exit = on_error_exit;
  job.error_manager.emit_message = on_emit_message;
  job.error_manager.output_message = on_output_message;
  cinfo.client_data = &job;
  if (setjmp(job.jump) != 0) return Outcome::kLibjpegError;  // NOLINT(cert-err52-cpp)

  jpeg_create_decompress(&cinfo);
  job.progress.progress_monitor = on_progress;
  cinfo.progress = &job.progress;
  jpeg_mem_src(&cinfo, job.bytes.data(), static_cast<unsigned long>(job.bytes.size()));
  jpeg_read_header(&cinfo, TRUE);

  job.status =
      check_dimensions(job.name, "JPEG", cinfo.image_width, cinfo.image_height, *job.limits);
  if (!job.status.is_ok()) return Outcome::kRejected;
  switch (cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE:
    case JCS_YCbCr:
    case JCS_RGB:
      break;
    default:
      job.status = file_error(job.name, "CMYK/YCCK JPEG is not supported (only RGB or gray)");
      return Outcome::kRejected;
  }
  cinfo.out_color_space = JCS_RGB;  // libjpeg-turbo converts gray to RGB too
  cinfo.dct_method = JDCT_ISLOW;    // the accurate integer IDCT (libjpeg's and Pillow's default)
  job.stored_width = static_cast<int>(cinfo.image_width);
  job.stored_height = static_cast<int>(cinfo.image_height);
  const int denominator = jpeg_scale_denominator(job.stored_width, job.stored_height,
                                                 job.orientation, job.box_width, job.box_height);
  cinfo.scale_num = 1;
  cinfo.scale_denom = static_cast<unsigned int>(denominator);
  jpeg_start_decompress(&cinfo);
  // libjpeg-turbo rounds a scaled side up: ceil(side / denominator).
  if (cinfo.output_components != 3 ||
      cinfo.output_width != (cinfo.image_width + denominator - 1) / denominator ||
      cinfo.output_height != (cinfo.image_height + denominator - 1) / denominator) {
    job.status = file_error(job.name, "unexpected JPEG output layout");
    return Outcome::kRejected;
  }

  try {
    job.image =
        Image(static_cast<int>(cinfo.output_width), static_cast<int>(cinfo.output_height), 3);
  } catch (const std::bad_alloc&) {
    job.status = file_error(job.name, "out of memory for the JPEG's pixels");
    return Outcome::kRejected;
  }
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = job.image.row(static_cast<int>(cinfo.output_scanline));
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  return Outcome::kDone;
}

}  // namespace

int jpeg_scale_denominator(int stored_width, int stored_height, int orientation, int box_width,
                           int box_height) {
  if (box_width <= 0 || box_height <= 0) return 1;
  const bool swaps = orientation >= 5 && orientation <= 8;
  const int64_t shown_width = swaps ? stored_height : stored_width;
  const int64_t shown_height = swaps ? stored_width : stored_height;
  // The photo fitted into the box is the photo scaled by s = min(box / side); decoded at 1/d with
  // d <= 1/s, each decoded side ceil(side / d) >= side * s is at least the fitted side however
  // that is rounded. d <= 1/s  <=>  d * box_width <= width or d * box_height <= height.
  for (int64_t denominator : {8, 4, 2}) {
    if (denominator * box_width <= shown_width || denominator * box_height <= shown_height) {
      return static_cast<int>(denominator);
    }
  }
  return 1;
}

Result<Image> decode_jpeg(std::span<const uint8_t> bytes, std::string_view name,
                          const ImageLimits& limits) {
  QSEG_ASSIGN_OR_RETURN(DecodedPhoto photo, decode_jpeg_for_box(bytes, name, 0, 0, limits));
  return std::move(photo.image);
}

Result<DecodedPhoto> decode_jpeg_for_box(std::span<const uint8_t> bytes, std::string_view name,
                                         int box_width, int box_height, const ImageLimits& limits) {
  JpegJob job;
  job.bytes = bytes;
  job.name = name;
  job.limits = &limits;
  job.box_width = box_width;
  job.box_height = box_height;
  job.orientation = jpeg_exif_orientation(bytes);
  const Outcome outcome = run_decode(job);
  jpeg_destroy_decompress(&job.cinfo);  // safe on a created or zeroed struct
  switch (outcome) {
    case Outcome::kDone: {
      // A quarter turn swaps the sides: width * height and the per-side limit (the same for both
      // sides) hold for the turned photo as checked for the stored one.
      const bool swaps = job.orientation >= 5 && job.orientation <= 8;
      DecodedPhoto photo;
      photo.width = swaps ? job.stored_height : job.stored_width;
      photo.height = swaps ? job.stored_width : job.stored_height;
      QSEG_ASSIGN_OR_RETURN(photo.image,
                            apply_exif_orientation(std::move(job.image), job.orientation, name));
      return photo;
    }
    case Outcome::kLibjpegError:
      return file_error(name, std::string("corrupt or truncated JPEG: ") + job.libjpeg_message);
    case Outcome::kRejected:
      break;
  }
  return job.status;
}

}  // namespace qseg::io

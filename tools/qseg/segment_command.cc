// `qseg segment`: photos in (files, folders, stdin), label PNGs (in the classes' palette) and
// overlays out, with the time per photo split into its steps and the classes seen; never an
// output overwritten unasked, and a line saying what was written even when interrupted.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <future>
#include <nlohmann/json.hpp>
#include <vector>

#include "common.h"
#include "imgproc/annotated_overlay.h"
#include "imgproc/image_io.h"
#include "imgproc/image_ops.h"
#include "qseg/segmenter.h"
#include "segment_inputs.h"

namespace qseg::cli {
namespace {
namespace fs = std::filesystem;

struct SegmentArgs {
  std::string model;
  int threads = 1;
  Requantization requantization = Requantization::kXnnpack;
  KernelIsa kernels = KernelIsa::kAuto;
  bool fuse_blocks = false;
  std::string out = "qseg-masks";
  std::vector<std::string> images;
  InputLimits limits;
  std::string labels;  // --labels FILE
  // The overlay: --opacity, --no-outlines, --no-legend; --no-overlay writes none.
  OverlayOptions overlay;
  bool write_overlay = true;
  std::string overlay_format = "png";  // or "jpg": 20x faster to write for 12 MP photos
  // Large JPEGs are decoded only as far as the model needs (decode_photo_for_box) and the
  // overlay drawn at that size; --full-size-overlay decodes them whole for a full-size overlay.
  bool full_size_overlay = false;
  bool overwrite = false;
  bool skip_existing = false;
  std::string json;  // --json FILE
};

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

struct ClassShare {
  int id;
  int64_t pixels;
};

// The classes in a mask, most pixels first.
std::vector<ClassShare> class_shares(const Image& labels) {
  std::array<int64_t, 256> counts{};
  for (uint8_t v : labels.pixels) ++counts[v];
  std::vector<ClassShare> present;
  for (int c = 0; c < 256; ++c)
    if (counts[c] > 0) present.push_back({c, counts[c]});
  std::stable_sort(present.begin(), present.end(),
                   [](const ClassShare& a, const ClassShare& b) { return a.pixels > b.pixels; });
  return present;
}

std::string class_name(const ClassSet& classes, int c) {
  return c < classes.size() ? classes.name(c) : "class " + std::to_string(c);
}

// The photo on stdin ("-"): everything read from it, up to the size a file may have, decoded.
Result<DecodedPhoto> read_stdin_photo(int box_width, int box_height, const ImageLimits& limits) {
  constexpr size_t kMaxBytes = size_t{1} << 31;
  std::vector<uint8_t> bytes;
  std::array<uint8_t, 1 << 16> chunk;
  size_t n;
  while ((n = std::fread(chunk.data(), 1, chunk.size(), stdin)) > 0) {
    bytes.insert(bytes.end(), chunk.begin(), chunk.begin() + n);
    if (bytes.size() > kMaxBytes) return Status::error("stdin: more than 2 GiB of data");
  }
  if (std::ferror(stdin)) return Status::error("stdin: cannot read");
  if (bytes.empty())
    return Status::error("stdin: no data (expected a JPEG, PNG, BMP or WebP photo)");
  return decode_photo_for_box(bytes, "stdin", box_width, box_height, limits);
}

// One photo: decode (a large JPEG only as far as the model input, or the overlay with
// --full-size-overlay, needs), segment with the mask at the photo's full size, write the overlay
// (at the decoded size) and then the mask (so that a mask is there only with its overlay), each
// file written whole or not at all. Fills `record` for --json.
struct DecodedJob {
  Result<DecodedPhoto> photo;
  double ms = 0;
};

// The photo of `job`, decoded as far as the model (or, with --full-size-overlay, the overlay)
// needs. Called on a second thread for the next photo while the current one is segmented.
DecodedJob decode_job(const PhotoJob& job, const SegmentArgs& args, int input_width,
                      int input_height) {
  const auto start = std::chrono::steady_clock::now();
  const bool whole = args.full_size_overlay && !job.overlay.empty();
  const int box_width = whole ? 0 : input_width;
  const int box_height = whole ? 0 : input_height;
  DecodedJob decoded{job.input == "-"
                         ? read_stdin_photo(box_width, box_height, args.limits.image)
                         : read_photo_for_box(job.input, box_width, box_height, args.limits.image),
                     0};
  decoded.ms = ms_since(start);
  return decoded;
}

Status segment_one(Segmenter& segmenter, const PhotoJob& job, DecodedJob decoded,
                   const SegmentArgs& args, nlohmann::json* record) {
  QSEG_RETURN_IF_ERROR(decoded.photo.status());
  const DecodedPhoto photo = std::move(decoded.photo).value();
  const double decode_ms = decoded.ms;
  auto start = std::chrono::steady_clock::now();
  SegmentTiming timing;
  QSEG_ASSIGN_OR_RETURN(Image labels,
                        segmenter.segment(photo.image, photo.width, photo.height, &timing));
  start = std::chrono::steady_clock::now();
  std::error_code ec;
  fs::create_directories(job.mask.parent_path(), ec);
  if (ec) {
    return Status::error("cannot create output folder " + job.mask.parent_path().string() + ": " +
                         ec.message());
  }
  const ClassSet& classes = segmenter.classes();
  // The overlay is drawn and encoded on a second thread while the mask is encoded; then the
  // overlay is written, then the mask.
  std::future<Result<std::vector<uint8_t>>> overlay;
  if (!job.overlay.empty()) {
    overlay = std::async(std::launch::async, [&]() -> Result<std::vector<uint8_t>> {
      const Image shown = photo.reduced()
                              ? annotated_overlay(photo.image,
                                                  resize_nearest(labels, photo.image.width,
                                                                 photo.image.height, false),
                                                  classes, args.overlay)
                              : annotated_overlay(photo.image, labels, classes, args.overlay);
      return args.overlay_format == "jpg" ? encode_jpeg(shown, job.overlay.string())
                                          : encode_png(shown, job.overlay.string());
    });
  }
  auto mask = encode_label_png(labels, job.mask.string(), classes.palette());
  if (overlay.valid()) {
    QSEG_ASSIGN_OR_RETURN(const std::vector<uint8_t> overlay_bytes, overlay.get());
    QSEG_RETURN_IF_ERROR(write_file_atomically(job.overlay, overlay_bytes));
  }
  QSEG_RETURN_IF_ERROR(mask.status());
  QSEG_RETURN_IF_ERROR(write_file_atomically(job.mask, *mask));
  const double write_ms = ms_since(start);
  const double total_ms = decode_ms + timing.total_ms() + write_ms;

  std::string text;
  nlohmann::json found = nlohmann::json::array();
  const double pixels = static_cast<double>(labels.pixels.size());
  for (const ClassShare& share : class_shares(labels)) {
    const std::string name = class_name(classes, share.id);
    text +=
        fmt::format("{}{} {:.1f}%", text.empty() ? "" : ", ", name, 100.0 * share.pixels / pixels);
    found.push_back({{"id", share.id}, {"name", name}, {"share", share.pixels / pixels}});
  }
  const std::string decoded_at =
      photo.reduced() ? fmt::format(" (decoded at {}x{})", photo.image.width, photo.image.height)
                      : "";
  fmt::print(
      "{}: {}x{}{} -> {} ({:.1f} ms: decode {:.1f}, preprocess {:.1f}, model {:.1f}, "
      "postprocess {:.1f}, write {:.1f}); {}\n",
      job.name, photo.width, photo.height, decoded_at, job.mask.string(), total_ms, decode_ms,
      timing.preprocess_ms, timing.invoke_ms, timing.postprocess_ms, write_ms, text);
  (*record)["width"] = photo.width;
  (*record)["height"] = photo.height;
  (*record)["decoded"] = {{"width", photo.image.width}, {"height", photo.image.height}};
  (*record)["ms"] = {{"decode", decode_ms},       {"preprocess", timing.preprocess_ms},
                     {"model", timing.invoke_ms}, {"postprocess", timing.postprocess_ms},
                     {"write", write_ms},         {"total", total_ms}};
  (*record)["classes"] = std::move(found);
  return Status::ok();
}

// Which outputs exist already: none may unless --overwrite or --skip-existing says what to do.
Status check_existing_outputs(const std::vector<PhotoJob>& jobs, const SegmentArgs& args) {
  if (args.overwrite || args.skip_existing) return Status::ok();
  std::string first;
  int existing = 0;
  for (const PhotoJob& job : jobs) {
    for (const fs::path& output : {job.mask, job.overlay}) {
      std::error_code ec;
      if (output.empty() || !fs::exists(output, ec)) continue;
      if (existing++ == 0) first = output.string();
    }
  }
  if (existing == 0) return Status::ok();
  return Status::error(fmt::format(
      "{} exists{}: --overwrite replaces existing outputs, --skip-existing keeps them and skips "
      "their photos",
      first, existing > 1 ? fmt::format(" ({} outputs exist)", existing) : ""));
}

bool outputs_exist(const PhotoJob& job) {
  std::error_code ec;
  return fs::exists(job.mask, ec) && (job.overlay.empty() || fs::exists(job.overlay, ec));
}

Status run_segment(const SegmentArgs& args) {
  QSEG_RETURN_IF_ERROR(check_threads(args.threads));
  if (!(args.overlay.opacity >= 0.0f && args.overlay.opacity <= 1.0f))
    return Status::invalid_argument(
        fmt::format("--opacity {} is outside 0..1", args.overlay.opacity));
  if (args.overlay_format != "png" && args.overlay_format != "jpg")
    return Status::invalid_argument("--overlay-format " + args.overlay_format +
                                    ": expected png or jpg");
  // Everything that could stop the run is looked at before the first photo: the inputs and the
  // names of their outputs, existing outputs, the output folder and the JSON file.
  PlanNotes notes;
  QSEG_ASSIGN_OR_RETURN(
      const std::vector<PhotoJob> jobs,
      plan_photo_jobs(args.images, {args.out, args.write_overlay, args.overlay_format}, &notes));
  QSEG_RETURN_IF_ERROR(check_existing_outputs(jobs, args));
  std::error_code ec;
  fs::create_directories(args.out, ec);
  if (ec || !fs::is_directory(args.out)) {
    return Status::error("cannot create output folder " + args.out +
                         (ec ? ": " + ec.message() : ""));
  }
  if (::access(args.out.c_str(), W_OK) != 0)
    return Status::error("cannot write in output folder " + args.out + ": " + std::strerror(errno));
  if (!args.json.empty()) QSEG_RETURN_IF_ERROR(check_writable(args.json));

  const fs::path model = args.model.empty() ? default_model() : fs::path(args.model);
  SegmenterOptions options;
  options.num_threads = args.threads;
  options.requantization = args.requantization;
  options.kernel_isa = args.kernels;
  options.model_limits = args.limits.model;
  options.max_arena_bytes = args.limits.max_arena_bytes;
  options.fuse_inverted_residuals = args.fuse_blocks;
  options.labels_file = args.labels;
  QSEG_ASSIGN_OR_RETURN(auto segmenter, Segmenter::load(model, options));
  const std::string kernels(kernel_isa_name(segmenter->interpreter().kernel_isa()));
  fmt::print("model {} ({}x{} input, {} kernels, {}, arena {} bytes)\n", model.string(),
             segmenter->input_width(), segmenter->input_height(), kernels,
             threads_text(args.threads), segmenter->interpreter().arena_bytes());
  for (const std::string& line : notes.lines) fmt::print("{}\n", line);

  catch_interrupts();
  const auto start = std::chrono::steady_clock::now();
  nlohmann::json records = nlohmann::json::array();
  int written = 0, skipped = 0, failed = 0;
  Status single_failure;
  // The next photo is decoded on a second thread while this one is segmented and written
  // (stdin, read once, is decoded in turn).
  const int input_width = segmenter->input_width(), input_height = segmenter->input_height();
  const auto skips = [&](size_t i) { return args.skip_existing && outputs_exist(jobs[i]); };
  const auto start_decode = [&](size_t i) {
    return std::async(std::launch::async, decode_job, std::cref(jobs[i]), std::cref(args),
                      input_width, input_height);
  };
  std::future<DecodedJob> next;
  for (size_t i = 0; i < jobs.size(); ++i) {
    const PhotoJob& job = jobs[i];
    if (interrupt_signal() != 0) break;
    nlohmann::json record = {{"input", job.name}, {"mask", job.mask.string()}};
    if (!job.overlay.empty()) record["overlay"] = job.overlay.string();
    if (skips(i)) {
      fmt::print("{}: skipped, {} exists (--skip-existing)\n", job.name, job.mask.string());
      record["status"] = "skipped";
      ++skipped;
      records.push_back(std::move(record));
      continue;
    }
    DecodedJob decoded =
        next.valid() ? next.get() : decode_job(job, args, input_width, input_height);
    for (size_t j = i + 1; j < jobs.size(); ++j) {  // the next photo that will be segmented
      if (skips(j)) continue;
      if (jobs[j].input != "-") next = start_decode(j);
      break;
    }
    if (const Status s = segment_one(*segmenter, job, std::move(decoded), args, &record);
        s.is_ok()) {
      record["status"] = "written";
      ++written;
    } else {
      // A failed photo does not stop the others; a single photo's failure is the one error line.
      record["status"] = "failed";
      record["error"] = s.message();
      ++failed;
      if (jobs.size() == 1) {
        single_failure = s;
      } else {
        std::fflush(stdout);
        fmt::print(stderr, "qseg: error: {}\n", s.message());
      }
    }
    records.push_back(std::move(record));
  }
  const double seconds = ms_since(start) / 1000.0;
  const int signal = interrupt_signal();
  const int total = static_cast<int>(jobs.size());
  const std::string written_text = fmt::format("{} of {} photo{} written to {}", written, total,
                                               total == 1 ? "" : "s", args.out);
  std::string also;
  if (skipped > 0) also += fmt::format("; {} skipped (outputs exist)", skipped);
  if (failed > 0) also += fmt::format("; {} failed", failed);
  if (signal == 0 && total > 1) fmt::print("{}{} in {:.1f} s\n", written_text, also, seconds);

  if (!args.json.empty()) {
    const nlohmann::json json = {
        {"model", model.string()},
        {"input_width", segmenter->input_width()},
        {"input_height", segmenter->input_height()},
        {"kernels", kernels},
        {"threads", args.threads},
        {"out", args.out},
        {"photos", std::move(records)},
        {"summary",
         {{"photos", total},
          {"written", written},
          {"skipped", skipped},
          {"failed", failed},
          {"interrupted", signal != 0 ? nlohmann::json(signal_name(signal)) : nlohmann::json()},
          {"seconds", seconds}}}};
    QSEG_RETURN_IF_ERROR(write_json_file(args.json, json));
    fmt::print("JSON: {}\n", args.json);
  }
  if (signal != 0) {
    return Status::incomplete(
        fmt::format("interrupted ({}): {}{}; run it again with --skip-existing to do the rest",
                    signal_name(signal), written_text, also));
  }
  if (!single_failure.is_ok()) return single_failure;
  if (failed > 0) {
    return Status::error(fmt::format("{} of {} photos failed (see above); {} written to {}", failed,
                                     total, written, args.out));
  }
  return Status::ok();
}

}  // namespace

void add_segment_command(CLI::App& app, Action& run) {
  auto args = std::make_shared<SegmentArgs>();
  CLI::App* cmd = app.add_subcommand(
      "segment",
      "Segment photos: writes OUT/NAME.png (palette PNG of class ids) and OUT/NAME.overlay.png");
  cmd->add_option(
      "--model", args->model,
      "Model .tflite (default: the published dm0.5 uint8 DeepLab in the shared folder)");
  cmd->add_option("--threads", args->threads, "Threads")->capture_default_str();
  cmd->add_option("--labels", args->labels,
                  "Labels file naming the model's classes (one name per line, optional "
                  "#RRGGBB); default: the model's own, VOC's for 21 classes, else class_N");
  add_requantization_option(*cmd, args->requantization);
  add_kernels_option(*cmd, args->kernels);
  add_limit_options(*cmd, args->limits, /*images=*/true);
  cmd->add_flag("--fuse-blocks", args->fuse_blocks,
                "Run each inverted residual block as one kernel over bands of rows (less memory)");
  cmd->add_option("--opacity", args->overlay.opacity,
                  "Overlay: weight of the class colours over the photo, 0..1")
      ->capture_default_str();
  cmd->add_flag("--no-outlines{false}", args->overlay.outlines, "Overlay without region outlines");
  cmd->add_flag("--no-legend{false}", args->overlay.legend, "Overlay without the legend panel");
  cmd->add_option("--overlay-format", args->overlay_format,
                  "Overlay file format: png (lossless) or jpg (quality 90, much faster to write "
                  "for large photos)")
      ->capture_default_str();
  cmd->add_flag("--no-overlay{false}", args->write_overlay, "Write only the masks, no overlays");
  cmd->add_flag("--full-size-overlay", args->full_size_overlay,
                "Overlays at the photo's full size: large JPEGs are then decoded whole (by "
                "default they are decoded, and overlaid, only at the size the model needs, "
                "between it and twice it; masks are always full size)");
  cmd->add_option("--out", args->out,
                  "Output folder; photos found in folders keep their subfolders below it")
      ->capture_default_str();
  CLI::Option* overwrite =
      cmd->add_flag("--overwrite", args->overwrite, "Replace outputs that exist already");
  cmd->add_flag("--skip-existing", args->skip_existing,
                "Skip the photos whose outputs exist already (to finish an interrupted run)")
      ->excludes(overwrite);
  cmd->add_option("--json", args->json,
                  "Also write per photo its outputs, size, time per step and classes as JSON here");
  cmd->add_option(
         "images", args->images,
         "Photos (JPEG, PNG, BMP, WebP), folders of them (walked recursively) or - (one photo "
         "read from stdin, written as OUT/stdin.png)")
      ->required();
  cmd->callback([args, &run] { run = [args] { return run_segment(*args); }; });
}

}  // namespace qseg::cli

// `qseg segment`: photos in, label PNGs (in the classes' palette) and overlays out, with the time
// per photo and the classes seen.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <vector>

#include "common.h"
#include "imgproc/annotated_overlay.h"
#include "imgproc/image_io.h"
#include "imgproc/image_ops.h"
#include "qseg/segmenter.h"

namespace qseg::cli {
namespace {

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
};

std::string class_summary(const Image& labels, const ClassSet& classes) {
  std::array<int64_t, 256> counts{};
  for (uint8_t v : labels.pixels) ++counts[v];
  std::vector<int> present;
  for (int c = 0; c < 256; ++c)
    if (counts[c] > 0) present.push_back(c);
  std::sort(present.begin(), present.end(), [&](int a, int b) { return counts[a] > counts[b]; });
  std::string text;
  const double total = static_cast<double>(labels.pixels.size());
  for (int c : present) {
    const std::string name = c < classes.size() ? classes.name(c) : "class " + std::to_string(c);
    text += fmt::format("{}{} {:.1f}%", text.empty() ? "" : ", ", name, 100.0 * counts[c] / total);
  }
  return text;
}

Status segment_one(Segmenter& segmenter, const std::filesystem::path& image_path,
                   const std::filesystem::path& out_dir, const ImageLimits& limits,
                   const SegmentArgs& args) {
  QSEG_ASSIGN_OR_RETURN(Image photo, read_image(image_path, limits));
  SegmentTiming timing;
  QSEG_ASSIGN_OR_RETURN(Image labels, segmenter.segment(photo, &timing));
  const std::string stem = image_path.stem().string();
  const auto mask_path = out_dir / (stem + ".png");
  const auto overlay_path = out_dir / (stem + "_overlay." + args.overlay_format);
  std::error_code ec;
  for (const auto& p : {mask_path, overlay_path}) {
    if (std::filesystem::equivalent(p, image_path, ec)) {
      return Status::error(image_path.string() + ": output " + p.string() +
                           " would overwrite the input; choose another --out");
    }
  }
  const ClassSet& classes = segmenter.classes();
  QSEG_RETURN_IF_ERROR(write_label_png(mask_path, labels, classes.palette()));
  if (args.write_overlay) {
    const Image shown = annotated_overlay(photo, labels, classes, args.overlay);
    QSEG_RETURN_IF_ERROR(args.overlay_format == "jpg" ? write_jpeg(overlay_path, shown)
                                                      : write_png(overlay_path, shown));
  }
  fmt::print(
      "{}: {}x{} -> {} ({:.1f} ms: preprocess {:.1f}, model {:.1f}, postprocess {:.1f}); {}\n",
      image_path.string(), photo.width, photo.height, mask_path.string(), timing.total_ms(),
      timing.preprocess_ms, timing.invoke_ms, timing.postprocess_ms,
      class_summary(labels, classes));
  return Status::ok();
}

Status run_segment(const SegmentArgs& args) {
  QSEG_RETURN_IF_ERROR(check_threads(args.threads));
  if (!(args.overlay.opacity >= 0.0f && args.overlay.opacity <= 1.0f))
    return Status::invalid_argument(
        fmt::format("--opacity {} is outside 0..1", args.overlay.opacity));
  if (args.overlay_format != "png" && args.overlay_format != "jpg")
    return Status::invalid_argument("--overlay-format " + args.overlay_format +
                                    ": expected png or jpg");
  const std::filesystem::path model =
      args.model.empty() ? default_model() : std::filesystem::path(args.model);
  SegmenterOptions options;
  options.num_threads = args.threads;
  options.requantization = args.requantization;
  options.kernel_isa = args.kernels;
  options.model_limits = args.limits.model;
  options.max_arena_bytes = args.limits.max_arena_bytes;
  options.fuse_inverted_residuals = args.fuse_blocks;
  options.labels_file = args.labels;
  QSEG_ASSIGN_OR_RETURN(auto segmenter, Segmenter::load(model, options));
  std::error_code ec;
  std::filesystem::create_directories(args.out, ec);
  if (ec || !std::filesystem::is_directory(args.out)) {
    return Status::error("cannot create output folder " + args.out +
                         (ec ? ": " + ec.message() : ""));
  }
  fmt::print("model {} ({}x{} input, {} threads, arena {} bytes)\n", model.string(),
             segmenter->input_width(), segmenter->input_height(), args.threads,
             segmenter->interpreter().arena_bytes());
  // A failed photo does not stop the others; a single photo's failure is the one error line.
  if (args.images.size() == 1)
    return segment_one(*segmenter, args.images[0], args.out, args.limits.image, args);
  int failed = 0;
  for (const auto& image : args.images) {
    const Status s = segment_one(*segmenter, image, args.out, args.limits.image, args);
    if (!s.is_ok()) {
      std::fflush(stdout);
      fmt::print(stderr, "qseg: error: {}\n", s.message());
      ++failed;
    }
  }
  if (failed > 0)
    return Status::error(
        fmt::format("{} of {} images failed (see above)", failed, args.images.size()));
  return Status::ok();
}

}  // namespace

void add_segment_command(CLI::App& app, Action& run) {
  auto args = std::make_shared<SegmentArgs>();
  CLI::App* cmd = app.add_subcommand(
      "segment",
      "Segment photos: writes OUT/NAME.png (palette PNG of class ids) and OUT/NAME_overlay.png");
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
  cmd->add_option("--out", args->out, "Output folder")->capture_default_str();
  cmd->add_option("images", args->images, "Photos (JPEG, PNG, BMP)")->required();
  cmd->callback([args, &run] { run = [args] { return run_segment(*args); }; });
}

}  // namespace qseg::cli

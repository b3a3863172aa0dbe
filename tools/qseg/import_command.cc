// `qseg import`: a published DeepLab .tflite -> a training checkpoint (folded model), checked
// against qseg's runtime at the file's own input size and output stride.
#include <fmt/format.h>

#include "common.h"
#include "training_tool.h"
#include "train/import_tflite.h"

namespace qseg::cli {
namespace {

Status run_import(const train::ImportOptions& options) {
  QSEG_RETURN_IF_ERROR(check_threads(options.num_threads));
  if (options.output_stride != 8 && options.output_stride != 16 && options.output_stride != 32) {
    return Status::invalid_argument("--output-stride must be 8, 16 or 32, got " +
                         std::to_string(options.output_stride));
  }
  if (options.input_size < 17 || options.input_size > 4097) {
    return Status::invalid_argument("--input-size must be in [17, 4097], got " +
                         std::to_string(options.input_size));
  }
  QSEG_ASSIGN_OR_RETURN(train::ImportReport report, train::import_tflite(options));
  fmt::print(
      "{}: DeepLabV3 MobileNetV2, depth multiplier {}, {} classes, {} (input {}x{}, output stride "
      "{})\n",
      options.tflite.string(), report.depth_multiplier, report.num_classes,
      report.quantized ? "uint8" : "float", report.source_input_size, report.source_input_size,
      report.source_output_stride);
  fmt::print(
      "imported {} convolutions (folded: conv + bias){}\n", report.layers,
      report.quantized ? fmt::format(", {} activation ranges", report.ranges) : std::string());
  if (report.checked) {
    const train::ImportCheck& c = report.check;
    fmt::print("check against qseg's runtime at {}x{}, output stride {} (libtorch{}):\n",
               c.input_size, c.input_size, c.output_stride,
               c.quantized ? " with simulated quantization" : "");
    if (c.quantized) {
      fmt::print(
          "  each layer alone:  >= {:.3f}% of outputs within one step, >= {:.2f}% on the same "
          "code\n",
          100 * c.worst_layer_within_one_step, 100 * c.worst_layer_exact);
      fmt::print("  whole model:       logits within one step {:.2f}%, relative L2 {:.4f}\n",
                 100 * c.logits_within_one_step, c.logits_relative_l2);
    } else {
      fmt::print("  each layer alone:  relative L2 <= {:.3g} ({})\n", c.worst_layer_relative_l2,
                 c.worst_layer);
      fmt::print("  whole model:       logits relative L2 {:.3g}, max |difference| {:.3g}\n",
                 c.logits_relative_l2, c.logits_max_abs_diff);
    }
    fmt::print("  labels agree:      {:.3f}% of {}x{} pixels\n", 100 * c.label_agreement,
               c.input_size, c.input_size);
  }
  fmt::print("wrote {} (input {}x{}, output stride {})\n", options.out.string(), options.input_size,
             options.input_size, options.output_stride);
  return Status::ok();
}

}  // namespace

void add_import_command(CLI::App& app, Action& run) {
  auto options = std::make_shared<train::ImportOptions>();
  CLI::App* cmd = app.add_subcommand("import", std::string(kImportDescription));
  cmd->add_option("--tflite", options->tflite, "DeepLab MobileNetV2 .tflite (float or uint8)")
      ->required();
  cmd->add_option("--out", options->out, "Checkpoint to write")->required();
  cmd->add_option("--output-stride", options->output_stride,
                  "Output stride of the imported model (8, 16, 32)")
      ->capture_default_str();
  cmd->add_option("--input-size", options->input_size, "Input size of the imported model")
      ->capture_default_str();
  cmd->add_option("--check-image", options->check_image,
                  "Photo for the check (default: a generated image)");
  cmd->add_flag("!--no-check", options->check, "Skip the comparison with qseg's runtime");
  cmd->add_option("--threads", options->num_threads, "Threads")->capture_default_str();
  add_model_limit_options(*cmd, options->model_limits, /*max_arena_bytes=*/nullptr);
  add_image_limit_option(*cmd, options->image_limits);
  cmd->callback([options, &run] { run = [options] { return run_import(*options); }; });
}

}  // namespace qseg::cli

// Building the libtorch model from .tflite weights, and checking it against qseg's runtime.
#include "train/import.h"

#include <cmath>
#include <cstring>

#include "model/imported_model.h"
#include "train/support/files.h"
#include "train/support/runtime_logits.h"

namespace qseg::train {
namespace {

Status check_layer_options(const LayerSpec& spec, const ImportedLayer& layer,
                           const std::string& source) {
  if (spec.stride != layer.stride || spec.dilation != layer.dilation ||
      spec.activation != layer.activation) {
    return Status::error(source + ": layer " + spec.name + " has stride " +
                         std::to_string(layer.stride) + ", dilation " +
                         std::to_string(layer.dilation) + " where the model expects stride " +
                         std::to_string(spec.stride) + ", dilation " +
                         std::to_string(spec.dilation) + " (or another activation)");
  }
  return Status::ok();
}

// Class ids of logits [1, C, h, w] resized to size x size (bilinear, corners aligned).
torch::Tensor labels_at(const torch::Tensor& logits, int size) {
  namespace F = torch::nn::functional;
  return F::interpolate(logits, F::InterpolateFuncOptions()
                                    .size(std::vector<int64_t>{size, size})
                                    .mode(torch::kBilinear)
                                    .align_corners(true))
      .argmax(1);
}

}  // namespace

Result<DeepLabModel> build_imported_model(const ImportedWeights& weights, int output_stride,
                                          int input_size) {
  QSEG_ASSIGN_OR_RETURN(CheckpointFile file,
                        model::imported_checkpoint(weights, output_stride, input_size));
  return DeepLabModel::load(file, weights.source);
}

Result<ImportCheck> check_import(const Graph& graph, const ImportedWeights& weights,
                                 const Image& rgb, int num_threads) {
  QSEG_ASSIGN_OR_RETURN(DeepLabModel model,
                        build_imported_model(weights, weights.output_stride, weights.input_size));
  for (const ConvLayer& layer : model.layers()) {
    QSEG_RETURN_IF_ERROR(
        check_layer_options(layer.spec, weights.layers.at(layer.spec.name), weights.source));
  }
  QSEG_ASSIGN_OR_RETURN(RuntimeLogits runtime,
                        run_runtime_logits(graph, weights, rgb, num_threads, /*keep_layers=*/true));
  const int size = runtime.input_size;
  ImportCheck check;
  check.quantized = weights.quantized;
  check.input_size = size;
  check.output_stride = weights.output_stride;
  check.logits_scale = runtime.logits_scale;

  torch::NoGradGuard no_grad;
  const torch::Tensor reference =
      torch::from_blob(runtime.logits.data(), {1, runtime.height, runtime.width, runtime.classes},
                       torch::kFloat32)
          .permute({0, 3, 1, 2});
  const torch::Tensor image =
      torch::from_blob(runtime.input.data(), {1, size, size, 3}, torch::kFloat32)
          .permute({0, 3, 1, 2})
          .contiguous();
  ForwardOptions forward;
  forward.quant.quantize = weights.quantized;
  forward.quant.quantize_weights = false;  // they are the file's, already on its grids
  const torch::Tensor logits = model.forward(image, forward);
  if (logits.sizes() != reference.sizes()) {
    return Status::error(weights.source +
                         ": libtorch logits have another shape than the runtime's");
  }
  const torch::Tensor difference = logits - reference;
  check.logits_values = reference.numel();
  check.logits_relative_l2 =
      difference.norm().item<double>() / std::max(reference.norm().item<double>(), 1e-30);
  check.logits_max_abs_diff = difference.abs().max().item<double>();
  if (weights.quantized) {
    check.logits_within_one_step =
        (difference.abs() <= check.logits_scale * 1.001).to(torch::kFloat64).mean().item<double>();
  }
  check.label_agreement = (labels_at(logits, size) == labels_at(reference, size))
                              .to(torch::kFloat64)
                              .mean()
                              .item<double>();

  // Layer by layer, on the runtime's own inputs.
  auto nchw = [](std::vector<float>& values, const std::vector<int32_t>& shape) {
    return torch::from_blob(values.data(), {shape[0], shape[1], shape[2], shape[3]},
                            torch::kFloat32)
        .permute({0, 3, 1, 2})
        .contiguous();
  };
  for (ConvLayer& layer : model.layers()) {
    RuntimeLogits::LayerTensors& kept = runtime.layers.at(layer.spec.name);
    const torch::Tensor output = run_conv_layer(layer, nchw(kept.input, kept.input_shape), forward);
    const torch::Tensor expected = nchw(kept.output, kept.output_shape);
    if (output.sizes() != expected.sizes()) {
      return Status::error(weights.source + ": layer " + layer.spec.name +
                           " gives another shape than the runtime");
    }
    const torch::Tensor diff = (output - expected).abs();
    if (weights.quantized) {
      const double within =
          (diff <= kept.output_step * 1.001).to(torch::kFloat64).mean().item<double>();
      const double exact =
          (diff < kept.output_step * 0.5).to(torch::kFloat64).mean().item<double>();
      check.worst_layer_exact = std::min(check.worst_layer_exact, exact);
      if (within <= check.worst_layer_within_one_step) {
        check.worst_layer_within_one_step = within;
        check.worst_layer = layer.spec.name;
      }
    } else {
      const double relative =
          diff.norm().item<double>() / std::max(expected.norm().item<double>(), 1e-30);
      if (relative >= check.worst_layer_relative_l2) {
        check.worst_layer_relative_l2 = relative;
        check.worst_layer = layer.spec.name;
      }
    }
  }
  return check;
}

namespace {

// A deterministic photo-like test image: smooth colour gradients with a few shapes.
Image generated_image(int size) {
  Image image(size, size, 3);
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) {
      const float u = static_cast<float>(x) / size, v = static_cast<float>(y) / size;
      const bool disk = (u - 0.4f) * (u - 0.4f) + (v - 0.55f) * (v - 0.55f) < 0.06f;
      uint8_t* p = image.row(y) + x * 3;
      p[0] = static_cast<uint8_t>(disk ? 200 : 60 + 120 * u);
      p[1] = static_cast<uint8_t>(disk ? 60 : 90 + 100 * v);
      p[2] = static_cast<uint8_t>(disk ? 50 : 150 - 80 * u * v);
    }
  }
  return image;
}

}  // namespace

Result<ImportReport> import_tflite(const ImportOptions& options) {
  if (options.out.empty()) return Status::error("give --out CHECKPOINT");
  try {
    torch::set_num_threads(std::max(options.num_threads, 1));
    QSEG_ASSIGN_OR_RETURN(Graph graph, read_tflite_graph(options.tflite, options.model_limits));
    QSEG_ASSIGN_OR_RETURN(ImportedWeights weights,
                          extract_deeplab_weights(graph, options.tflite.string()));
    QSEG_ASSIGN_OR_RETURN(
        CheckpointFile file,
        model::imported_checkpoint(weights, options.output_stride, options.input_size));
    ImportReport report;
    report.quantized = weights.quantized;
    report.depth_multiplier = weights.depth_multiplier;
    report.num_classes = weights.num_classes;
    report.source_input_size = weights.input_size;
    report.source_output_stride = weights.output_stride;
    report.layers = static_cast<int>(weights.layers.size());
    report.ranges = static_cast<int>(weights.ranges.size());
    if (options.check) {
      Image image;
      if (options.check_image.empty()) {
        image = generated_image(weights.input_size);
      } else {
        QSEG_ASSIGN_OR_RETURN(image, read_photo(options.check_image, options.image_limits));
      }
      QSEG_ASSIGN_OR_RETURN(report.check, check_import(graph, weights, image, options.num_threads));
      report.checked = true;
    }
    QSEG_RETURN_IF_ERROR(write_checkpoint_file(options.out, file));
    return report;
  } catch (const c10::Error& e) {
    return Status::error(options.tflite.string() +
                         ": libtorch failed: " + e.what_without_backtrace());
  }
}

}  // namespace qseg::train

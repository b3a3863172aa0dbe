// Calibration of activation ranges on photos, for post-training quantization.
#include "convert/calibrate.h"

#include <algorithm>

#include "imgproc/image_io.h"
#include "qseg/interpreter.h"
#include "qseg/segmenter.h"

namespace qseg::convert {
namespace {

struct Extremes {
  double min_sum = 0, max_sum = 0;  // percentile method: sums over images
  float min = 0, max = 0;           // min/max method
  int count = 0;
};

}  // namespace

Status calibrate(FrozenGraph* frozen, const CalibrationOptions& options) {
  if (options.images < 1) return Status::error("--calibration-images must be at least 1");
  if (options.method == CalibrationMethod::kPercentile &&
      !(options.percentile > 50 && options.percentile <= 100)) {
    return Status::error("--percentile must be in (50, 100]");
  }
  std::vector<std::filesystem::path> photos = options.photos;
  if (photos.empty()) {
    QSEG_ASSIGN_OR_RETURN(std::vector<Sample> samples, read_samples(options.data));
    if (static_cast<int>(samples.size()) > options.images) samples.resize(options.images);
    for (const Sample& sample : samples) photos.push_back(sample.photo_path);
  }
  const Graph& graph = frozen->graph;
  const int input = graph.inputs[0];
  const std::vector<int32_t>& shape = graph.tensors[input].shape;
  if (shape.size() != 4 || shape[1] < 1 || shape[2] < 1 || shape[3] != 3 ||
      graph.tensors[input].type != DataType::kFloat32) {
    return Status::error("calibration needs a float graph with an RGB input [1, H, W, 3]");
  }
  InterpreterOptions interpreter_options;
  interpreter_options.num_threads = options.num_threads;
  interpreter_options.max_arena_bytes = options.max_arena_bytes;
  QSEG_ASSIGN_OR_RETURN(auto interpreter, Interpreter::create(graph, interpreter_options));
  std::vector<Extremes> extremes(graph.tensors.size());
  std::vector<float> scratch;
  const double lower_fraction = (100.0 - options.percentile) / 100.0;
  for (size_t s = 0; s < photos.size(); ++s) {
    auto rgb = read_image(photos[s], options.image_limits);
    if (!rgb.is_ok()) return rgb.status();
    // The Segmenter's own preprocessing, straight into the interpreter's input.
    int resized_width = 0, resized_height = 0;
    fill_float_model_input(rgb.value(), shape[2], shape[1], kDefaultInputMean, kDefaultInputStd,
                           reinterpret_cast<float*>(interpreter->input_bytes().data()),
                           &resized_width, &resized_height);
    interpreter->invoke([&](int op_index) {
      for (int t : graph.ops[op_index].outputs) {
        const Tensor& tensor = graph.tensors[t];
        if (tensor.type != DataType::kFloat32) continue;
        const float* data = static_cast<const float*>(interpreter->tensor_data(t));
        const int64_t n = tensor.num_elements();
        if (n == 0) continue;
        Extremes& e = extremes[t];
        if (options.method == CalibrationMethod::kMinMax) {
          const auto [lo, hi] = std::minmax_element(data, data + n);
          e.min = e.count == 0 ? *lo : std::min(e.min, *lo);
          e.max = e.count == 0 ? *hi : std::max(e.max, *hi);
        } else {
          scratch.assign(data, data + n);
          const auto low = static_cast<int64_t>(lower_fraction * static_cast<double>(n - 1));
          const int64_t high = n - 1 - low;
          std::nth_element(scratch.begin(), scratch.begin() + low, scratch.end());
          e.min_sum += scratch[low];
          std::nth_element(scratch.begin(), scratch.begin() + high, scratch.end());
          e.max_sum += scratch[high];
        }
        ++e.count;
      }
    });
    if (options.progress)
      options.progress(static_cast<int>(s + 1), static_cast<int>(photos.size()));
  }
  for (size_t t = 0; t < graph.tensors.size(); ++t) {
    const Extremes& e = extremes[t];
    if (e.count == 0 || static_cast<int>(t) == input) continue;
    if (options.method == CalibrationMethod::kMinMax) {
      frozen->ranges[t] = quant::FloatRange{e.min, e.max};
    } else {
      frozen->ranges[t] = quant::FloatRange{static_cast<float>(e.min_sum / e.count),
                                            static_cast<float>(e.max_sum / e.count)};
    }
  }
  // Grid-keeping ops (average pool, resize) take their input's range, as the converter requires.
  for (const Op& op : graph.ops) {
    if (op.type == OpType::kAveragePool2d || op.type == OpType::kResizeBilinear)
      frozen->ranges[op.outputs[0]] = frozen->ranges[op.inputs[0]];
  }
  return Status::ok();
}

}  // namespace qseg::convert

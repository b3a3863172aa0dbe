// The DeepLabV3 / MobileNetV2 architecture as plain data: a config (depth multiplier, output
// stride, head options) expands into the list of conv layers of the published TensorFlow graph,
// named as there (MobilenetV2/expanded_conv_3/project, aspp0, logits/semantic, ...), so weights
// map 1:1 to the tensors of the published .tflite files. No libtorch here: the importer, the
// converter and the libtorch model (src/train/model.h) all read the same list.
//
// Usage:
//   DeepLabConfig config;                 // dm 0.5, output stride 16, 21 classes
//   QSEG_ASSIGN_OR_RETURN(DeepLabSpec spec, deeplab_spec(config));
//   for (const LayerSpec& layer : spec.layers) ...   // in graph order
//
// Header kept C++17 (it is included by libtorch translation units).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "qseg/graph.h"
#include "qseg/status.h"

namespace qseg::model {

// The input sides a DeepLab graph takes: at least 17 (a 2x2 map at output stride 16), at most 4097.
inline constexpr int kMinInputSide = 17;
inline constexpr int kMaxInputSide = 4097;

struct DeepLabConfig {
  float depth_multiplier = 0.5f;
  // Channel counts are rounded to multiples of this (MobileNetV2's _make_divisible). 0 means
  // DeepLab's own choice: 8 at depth multiplier 1.0, otherwise 1 (so dm 0.5 has the 12- and
  // 48-channel layers of the published dm 0.5 models). Expansion layers always round to 8.
  int divisible_by = 0;
  int output_stride = 16;  // 8, 16 or 32: later strides become atrous rates
  int num_classes = 21;
  std::vector<int> aspp_rates;    // empty: the published MobileNetV2 head (no atrous branches)
  int decoder_output_stride = 0;  // 0: no decoder; 4 (or 8): DeepLabV3+ decoder at that stride
  bool image_pooling = true;
  // Batch norm folded into the convolutions (weights scaled, a bias per layer), as in the
  // published .tflite files; otherwise every layer but the logits has batch norm.
  bool folded = false;
  // The default export and evaluation input, height x width (the weights do not depend on it).
  // Checkpoints written before non-square inputs hold one "input_size": both.
  int input_height = 513;
  int input_width = 513;
  float dropout_keep_prob = 0.9f;  // before the logits, in training
};

// The scope of the last layer (the class scores): the one layer a new class set replaces.
inline constexpr const char* kLogitsScope = "logits/semantic";

enum class LayerKind : uint8_t { kConv, kDepthwise };

// One convolution of the graph. Weights are [out, in / groups, kernel, kernel] (libtorch's
// layout); depthwise layers have groups = channels and in = out.
struct LayerSpec {
  std::string name;  // scope in the published graph, e.g. "MobilenetV2/expanded_conv_3/project"
  LayerKind kind = LayerKind::kConv;
  int in_channels = 0;
  int out_channels = 0;
  int kernel = 1;
  int stride = 1;
  int dilation = 1;
  Activation activation = Activation::kNone;  // kNone, kRelu or kRelu6
  bool batch_norm = false;
  bool bias = false;
  float batch_norm_epsilon = 1e-3f;
};

// One MobileNetV2 inverted residual block: indices into DeepLabSpec::layers.
struct BlockSpec {
  std::string name;  // "MobilenetV2/expanded_conv_3"
  int expand = -1;   // -1 when the block has no expansion (the first one)
  int depthwise = -1;
  int project = -1;
  bool residual = false;  // output = input + project
};

// A separable convolution of the head: depthwise 3x3 then pointwise 1x1.
struct SeparableSpec {
  int depthwise = -1;
  int pointwise = -1;
};

struct DeepLabSpec {
  DeepLabConfig config;
  std::vector<LayerSpec> layers;  // graph order
  int stem = -1;                  // MobilenetV2/Conv
  std::vector<BlockSpec> blocks;  // expanded_conv .. expanded_conv_16
  int aspp0 = -1;
  int image_pooling = -1;           // -1 without image pooling
  std::vector<SeparableSpec> aspp;  // aspp1.. (one per atrous rate)
  int concat_projection = -1;
  int decoder_projection = -1;         // decoder/feature_projection0, -1 without decoder
  int decoder_block = -1;              // the block whose depthwise output feeds the decoder
  std::vector<SeparableSpec> decoder;  // decoder/decoder_conv0, decoder/decoder_conv1
  int logits = -1;

  int index_of(const std::string& name) const;  // -1 when absent
};

// Checks the config (depth multiplier in (0, 4], output stride 8/16/32, classes 1..255, rates
// positive, decoder stride 4 or 8 and below the output stride, input height and width in
// [kMinInputSide, kMaxInputSide], dropout keep probability in (0, 1]).
Status validate(const DeepLabConfig& config);
Result<DeepLabSpec> deeplab_spec(const DeepLabConfig& config);

// MobileNetV2's _make_divisible: value rounded to the nearest multiple of divisor (at least
// min_value), then one divisor more if rounding lost over 10%.
int make_divisible(double value, int divisor, int min_value);

// The checkpoint names of a layer's tensors.
std::string weight_name(const LayerSpec& layer);  // ".../weights" or ".../depthwise_weights"
// [out, in / groups, kernel, kernel]: [out, 1, k, k] for depthwise layers.
std::vector<int64_t> weight_shape(const LayerSpec& layer);
std::string range_name(const std::string& scope);  // "<scope>/range"

nlohmann::json config_to_json(const DeepLabConfig& config);
Result<DeepLabConfig> config_from_json(const nlohmann::json& json);

// The output size of TensorFlow's SAME padding and the padding it takes: total = max((out - 1) *
// stride + dilation * (kernel - 1) + 1 - in, 0), before = total / 2 (bottom/right get the rest).
struct SamePadding {
  int output = 0;
  int before = 0;
  int after = 0;
};
SamePadding same_padding(int input, int kernel, int stride, int dilation);

}  // namespace qseg::model

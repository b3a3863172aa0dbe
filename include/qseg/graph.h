// qseg's model IR: tensors (type, shape, quantization, constant data) and ops with typed options.
// Every model path goes through it: .tflite reader -> Graph -> Interpreter, converter -> Graph ->
// .tflite writer. Nothing here knows about FlatBuffers or libtorch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace qseg {

enum class DataType : uint8_t { kFloat32, kInt32, kUInt8, kInt64, kInt8, kInt16, kBool };

std::string_view data_type_name(DataType type);
size_t data_type_size(DataType type);

// Affine quantization: real = scale * (q - zero_point). One entry per tensor, or one per slice
// along quantized_dimension (per-channel weights). Empty when the tensor is not quantized.
struct Quantization {
  std::vector<float> scale;
  std::vector<int64_t> zero_point;
  int32_t quantized_dimension = 0;
  // The real range [min, max] the tensor is known to span, without a scale (TFLite's min/max
  // fields): how a frozen float graph (qseg export) carries the ranges that quantization-aware
  // training tracked. Either empty or one value each.
  std::vector<float> min, max;

  bool empty() const { return scale.empty(); }
  bool per_tensor() const { return scale.size() == 1; }
};

struct Tensor {
  std::string name;
  DataType type = DataType::kFloat32;
  std::vector<int32_t> shape;
  Quantization quant;
  std::vector<uint8_t> data;  // constant contents (little-endian); empty for activations
  bool is_constant = false;

  // Number of elements; shapes are validated (non-negative, bounded) before this is used.
  int64_t num_elements() const;
  int64_t byte_size() const { return num_elements() * static_cast<int64_t>(data_type_size(type)); }
  template <typename T>
  const T* data_as() const {
    return reinterpret_cast<const T*>(data.data());
  }
};

enum class OpType : uint8_t {
  kAdd,
  kAveragePool2d,
  kConcatenation,
  kConv2d,
  kDepthwiseConv2d,
  kDequantize,
  kQuantize,
  kResizeBilinear,
  kReshape,
  kArgMax,
  kTile,
  kPad,
  kPadV2,
  kSpaceToBatchNd,
  kBatchToSpaceNd,
  kResizeNearestNeighbor,
  kCast,
  // arithmetic ops of MobileNetV3 / EdgeTPU exports
  kMean,
  kMul,
  kSub,
  kHardSwish,
  kLogistic,
  // A TFLite op qseg cannot run (UnsupportedOptions says which): the reader keeps it so that a
  // model can still be inspected; the interpreter and the writer refuse it. Stays last.
  kUnsupported,
};

std::string_view op_type_name(OpType type);  // TFLite's name, e.g. "CONV_2D"

enum class Padding : uint8_t { kSame, kValid };
enum class Activation : uint8_t { kNone, kRelu, kReluN1To1, kRelu6 };

struct Conv2dOptions {
  Padding padding = Padding::kSame;
  int32_t stride_w = 1, stride_h = 1;
  int32_t dilation_w = 1, dilation_h = 1;
  Activation activation = Activation::kNone;
};

struct DepthwiseConv2dOptions {
  Padding padding = Padding::kSame;
  int32_t stride_w = 1, stride_h = 1;
  int32_t dilation_w = 1, dilation_h = 1;
  int32_t depth_multiplier = 1;
  Activation activation = Activation::kNone;
};

struct Pool2dOptions {
  Padding padding = Padding::kValid;
  int32_t stride_w = 1, stride_h = 1;
  int32_t filter_w = 1, filter_h = 1;
  Activation activation = Activation::kNone;
};

struct AddOptions {
  Activation activation = Activation::kNone;
};

struct ConcatenationOptions {
  int32_t axis = 0;  // may be negative (counted from the last dimension)
  Activation activation = Activation::kNone;
};

struct ResizeBilinearOptions {
  bool align_corners = false;
  bool half_pixel_centers = false;
};

struct ReshapeOptions {
  std::vector<int32_t> new_shape;  // may be empty: the shape then comes from input 1 or output
};

struct ArgMaxOptions {
  DataType output_type = DataType::kInt64;
};

struct ResizeNearestNeighborOptions {
  bool align_corners = false;
  bool half_pixel_centers = false;
};

// What the file says of an op qseg cannot run: its TFLite builtin code and name (e.g. 99,
// "SQUARED_DIFFERENCE"; the name is "CUSTOM" for custom ops, whose own name is custom_code).
struct UnsupportedOptions {
  int32_t builtin_code = 0;
  std::string tflite_name;
  std::string custom_code;
};

// MEAN (TFLite's ReducerOptions); the axes are input 1, a constant int32 tensor.
struct MeanOptions {
  bool keep_dims = false;
};

struct MulOptions {
  Activation activation = Activation::kNone;
};

struct SubOptions {
  Activation activation = Activation::kNone;
};

using OpOptions =
    std::variant<std::monostate, Conv2dOptions, DepthwiseConv2dOptions, Pool2dOptions, AddOptions,
                 ConcatenationOptions, ResizeBilinearOptions, ReshapeOptions, ArgMaxOptions,
                 ResizeNearestNeighborOptions, MeanOptions, MulOptions, SubOptions,
                 UnsupportedOptions>;

// Optional inputs that are absent are stored as kNoTensor.
inline constexpr int32_t kNoTensor = -1;

struct Op {
  OpType type = OpType::kAdd;
  int32_t version = 1;
  std::vector<int32_t> inputs;
  std::vector<int32_t> outputs;
  OpOptions options;

  template <typename T>
  const T& options_as() const {
    return std::get<T>(options);
  }
};

// The op's TFLite name: op_type_name(op.type), or for an unsupported op the file's name of it
// ("SQUARED_DIFFERENCE", or "CUSTOM 'MyOp'" for a custom op).
std::string op_name(const Op& op);

// The name of the .tflite metadata entry whose buffer holds a model's class names and colours
// (the text of a labels file, see qseg/class_set.h).
inline constexpr std::string_view kClassLabelsMetadataName = "qseg_labels";

struct Graph {
  std::string description;
  // The model's class names and colours as labels-file text (one "NAME #RRGGBB" line per class),
  // stored in the kClassLabelsMetadataName metadata entry; empty when the model has none.
  std::string class_labels;
  std::vector<Tensor> tensors;
  std::vector<Op> ops;  // in execution order
  std::vector<int32_t> inputs;
  std::vector<int32_t> outputs;
};

}  // namespace qseg

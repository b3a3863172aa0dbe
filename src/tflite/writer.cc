// Graph -> .tflite FlatBuffer, laid out as TensorFlow Lite's converter lays it out (schema version
// 3, one subgraph named "main", buffer 0 empty, one 16-byte aligned buffer per constant tensor),
// and the file written through io::write_file_durably. The Graph is checked first so that a bad
// Graph gives one clear error instead of a file that TFLite or the reader would reject.
#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <variant>

#include "graph/validate.h"
#include "io/durable_write.h"
#include "qseg/tflite.h"
#include "tflite/schema_generated.h"

namespace qseg {
namespace {

namespace fb = ::flatbuffers;
using ::tflite::BuiltinOperator;
using ::tflite::BuiltinOptions;

// ---------------------------------------------------------------- IR -> schema enums

::tflite::TensorType tflite_type(DataType type) {
  switch (type) {
    case DataType::kFloat32:
      return ::tflite::TensorType::FLOAT32;
    case DataType::kInt32:
      return ::tflite::TensorType::INT32;
    case DataType::kUInt8:
      return ::tflite::TensorType::UINT8;
    case DataType::kInt64:
      return ::tflite::TensorType::INT64;
    case DataType::kInt8:
      return ::tflite::TensorType::INT8;
    case DataType::kInt16:
      return ::tflite::TensorType::INT16;
    case DataType::kBool:
      return ::tflite::TensorType::BOOL;
  }
  return ::tflite::TensorType::FLOAT32;  // unreachable: validate_graph rejects other values
}

::tflite::ActivationFunctionType tflite_activation(Activation activation) {
  switch (activation) {
    case Activation::kNone:
      return ::tflite::ActivationFunctionType::NONE;
    case Activation::kRelu:
      return ::tflite::ActivationFunctionType::RELU;
    case Activation::kReluN1To1:
      return ::tflite::ActivationFunctionType::RELU_N1_TO_1;
    case Activation::kRelu6:
      return ::tflite::ActivationFunctionType::RELU6;
  }
  return ::tflite::ActivationFunctionType::NONE;
}

::tflite::Padding tflite_padding(Padding padding) {
  return padding == Padding::kValid ? ::tflite::Padding::VALID : ::tflite::Padding::SAME;
}

BuiltinOperator tflite_operator(OpType type) {
  switch (type) {
    case OpType::kAdd:
      return BuiltinOperator::ADD;
    case OpType::kAveragePool2d:
      return BuiltinOperator::AVERAGE_POOL_2D;
    case OpType::kConcatenation:
      return BuiltinOperator::CONCATENATION;
    case OpType::kConv2d:
      return BuiltinOperator::CONV_2D;
    case OpType::kDepthwiseConv2d:
      return BuiltinOperator::DEPTHWISE_CONV_2D;
    case OpType::kDequantize:
      return BuiltinOperator::DEQUANTIZE;
    case OpType::kQuantize:
      return BuiltinOperator::QUANTIZE;
    case OpType::kResizeBilinear:
      return BuiltinOperator::RESIZE_BILINEAR;
    case OpType::kReshape:
      return BuiltinOperator::RESHAPE;
    case OpType::kArgMax:
      return BuiltinOperator::ARG_MAX;
    case OpType::kTile:
      return BuiltinOperator::TILE;
    case OpType::kPad:
      return BuiltinOperator::PAD;
    case OpType::kPadV2:
      return BuiltinOperator::PADV2;
    case OpType::kSpaceToBatchNd:
      return BuiltinOperator::SPACE_TO_BATCH_ND;
    case OpType::kBatchToSpaceNd:
      return BuiltinOperator::BATCH_TO_SPACE_ND;
    case OpType::kResizeNearestNeighbor:
      return BuiltinOperator::RESIZE_NEAREST_NEIGHBOR;
    case OpType::kCast:
      return BuiltinOperator::CAST;
    case OpType::kMean:
      return BuiltinOperator::MEAN;
    case OpType::kMul:
      return BuiltinOperator::MUL;
    case OpType::kSub:
      return BuiltinOperator::SUB;
    case OpType::kHardSwish:
      return BuiltinOperator::HARD_SWISH;
    case OpType::kLogistic:
      return BuiltinOperator::LOGISTIC;
    case OpType::kUnsupported:
      break;  // refused by check_op_for_tflite
  }
  return BuiltinOperator::CUSTOM;  // unreachable: check_op rejects other values
}

// Codes above 126 do not fit the old byte field; converters then store 127
// (PLACEHOLDER_FOR_GREATER_OP_CODES) there and the real code in builtin_code.
int8_t deprecated_code(BuiltinOperator code) {
  return static_cast<int8_t>(std::min<int32_t>(static_cast<int32_t>(code), 127));
}

// ---------------------------------------------------------------- checks on the Graph

constexpr int64_t kMaxFlatBufferBytes = FLATBUFFERS_MAX_BUFFER_SIZE;

// What TFLite requires of an op beyond validate_graph, so that every written file reads back.
Status check_op_for_tflite(const Op& op) {
  if (op.type == OpType::kUnsupported) {
    return Status::error(
        "is an op qseg cannot run; qseg writes only the ops it runs (its options were not read)");
  }
  if (op.version < 1)
    return Status::error("version " + std::to_string(op.version) + " must be >= 1");
  if (const auto* arg_max = std::get_if<ArgMaxOptions>(&op.options)) {
    if (arg_max->output_type != DataType::kInt32 && arg_max->output_type != DataType::kInt64)
      return Status::error("output_type must be int32 or int64");
  }
  return Status::ok();
}

// An upper bound of the FlatBuffer's size: every vector may need 16 bytes of alignment padding
// plus its length, every table its vtable. FlatBuffers cannot address more than 2 GiB, and its
// builder only asserts on overflow, so larger graphs are refused here.
int64_t size_bound(const Graph& graph) {
  int64_t bytes = 4096 + static_cast<int64_t>(graph.description.size()) +
                  2 * static_cast<int64_t>(graph.class_labels.size());
  for (const Tensor& t : graph.tensors) {
    bytes += 512 + static_cast<int64_t>(t.name.size() + t.data.size() + 4 * t.shape.size() +
                                        12 * t.quant.scale.size());
  }
  for (const Op& op : graph.ops) {
    bytes += 512 + 4 * static_cast<int64_t>(op.inputs.size() + op.outputs.size());
    if (const auto* reshape = std::get_if<ReshapeOptions>(&op.options))
      bytes += 4 * static_cast<int64_t>(reshape->new_shape.size());
  }
  return bytes + 8 * static_cast<int64_t>(graph.inputs.size() + graph.outputs.size());
}

Status check_graph(const Graph& graph) {
  QSEG_RETURN_IF_ERROR(validate_graph(graph));
  for (size_t i = 0; i < graph.ops.size(); ++i) {
    if (Status s = check_op_for_tflite(graph.ops[i]); !s.is_ok()) {
      return s.with_context("op " + std::to_string(i) + " (" + op_name(graph.ops[i]) + ")");
    }
  }
  if (const int64_t bound = size_bound(graph); bound > kMaxFlatBufferBytes) {
    return Status::error("the graph needs up to " + std::to_string(bound) +
                         " bytes, more than a FlatBuffer holds (2 GiB)");
  }
  return Status::ok();
}

// ---------------------------------------------------------------- FlatBuffer construction

std::pair<BuiltinOptions, fb::Offset<void>> write_options(fb::FlatBufferBuilder& b, const Op& op) {
  switch (op.type) {
    case OpType::kConv2d: {
      const auto& o = op.options_as<Conv2dOptions>();
      return {
          BuiltinOptions::Conv2DOptions,
          ::tflite::CreateConv2DOptions(b, tflite_padding(o.padding), o.stride_w, o.stride_h,
                                        tflite_activation(o.activation), o.dilation_w, o.dilation_h)
              .Union()};
    }
    case OpType::kDepthwiseConv2d: {
      const auto& o = op.options_as<DepthwiseConv2dOptions>();
      return {BuiltinOptions::DepthwiseConv2DOptions,
              ::tflite::CreateDepthwiseConv2DOptions(
                  b, tflite_padding(o.padding), o.stride_w, o.stride_h, o.depth_multiplier,
                  tflite_activation(o.activation), o.dilation_w, o.dilation_h)
                  .Union()};
    }
    case OpType::kAveragePool2d: {
      const auto& o = op.options_as<Pool2dOptions>();
      return {BuiltinOptions::Pool2DOptions,
              ::tflite::CreatePool2DOptions(b, tflite_padding(o.padding), o.stride_w, o.stride_h,
                                            o.filter_w, o.filter_h, tflite_activation(o.activation))
                  .Union()};
    }
    case OpType::kAdd: {
      const auto& o = op.options_as<AddOptions>();
      return {BuiltinOptions::AddOptions,
              ::tflite::CreateAddOptions(b, tflite_activation(o.activation)).Union()};
    }
    case OpType::kConcatenation: {
      const auto& o = op.options_as<ConcatenationOptions>();
      return {
          BuiltinOptions::ConcatenationOptions,
          ::tflite::CreateConcatenationOptions(b, o.axis, tflite_activation(o.activation)).Union()};
    }
    case OpType::kResizeBilinear: {
      const auto& o = op.options_as<ResizeBilinearOptions>();
      return {
          BuiltinOptions::ResizeBilinearOptions,
          ::tflite::CreateResizeBilinearOptions(b, o.align_corners, o.half_pixel_centers).Union()};
    }
    case OpType::kReshape: {
      // An empty new_shape is left out: the shape then comes from input 1 or the output.
      const auto& o = op.options_as<ReshapeOptions>();
      const auto new_shape = o.new_shape.empty() ? 0 : b.CreateVector(o.new_shape);
      return {BuiltinOptions::ReshapeOptions, ::tflite::CreateReshapeOptions(b, new_shape).Union()};
    }
    case OpType::kArgMax: {
      const auto& o = op.options_as<ArgMaxOptions>();
      return {BuiltinOptions::ArgMaxOptions,
              ::tflite::CreateArgMaxOptions(b, tflite_type(o.output_type)).Union()};
    }
    case OpType::kResizeNearestNeighbor: {
      const auto& o = op.options_as<ResizeNearestNeighborOptions>();
      return {BuiltinOptions::ResizeNearestNeighborOptions,
              ::tflite::CreateResizeNearestNeighborOptions(b, o.align_corners, o.half_pixel_centers)
                  .Union()};
    }
    case OpType::kTile:
      return {BuiltinOptions::TileOptions, ::tflite::CreateTileOptions(b).Union()};
    case OpType::kPad:
      return {BuiltinOptions::PadOptions, ::tflite::CreatePadOptions(b).Union()};
    case OpType::kPadV2:
      return {BuiltinOptions::PadV2Options, ::tflite::CreatePadV2Options(b).Union()};
    case OpType::kSpaceToBatchNd:
      return {BuiltinOptions::SpaceToBatchNDOptions,
              ::tflite::CreateSpaceToBatchNDOptions(b).Union()};
    case OpType::kBatchToSpaceNd:
      return {BuiltinOptions::BatchToSpaceNDOptions,
              ::tflite::CreateBatchToSpaceNDOptions(b).Union()};
    case OpType::kMean: {
      const auto& o = op.options_as<MeanOptions>();
      return {BuiltinOptions::ReducerOptions,
              ::tflite::CreateReducerOptions(b, o.keep_dims).Union()};
    }
    case OpType::kMul: {
      const auto& o = op.options_as<MulOptions>();
      return {BuiltinOptions::MulOptions,
              ::tflite::CreateMulOptions(b, tflite_activation(o.activation)).Union()};
    }
    case OpType::kSub: {
      const auto& o = op.options_as<SubOptions>();
      return {BuiltinOptions::SubOptions,
              ::tflite::CreateSubOptions(b, tflite_activation(o.activation)).Union()};
    }
    case OpType::kQuantize:
    case OpType::kDequantize:
    case OpType::kCast:  // TFLite's CAST kernel reads the tensors' types, never the options
    case OpType::kUnsupported:
    case OpType::kHardSwish:
    case OpType::kLogistic:
      break;  // no options, as TFLite's converter writes them
  }
  return {BuiltinOptions::NONE, 0};
}

fb::Offset<::tflite::Tensor> write_tensor(fb::FlatBufferBuilder& b, const Tensor& t,
                                          uint32_t buffer) {
  const auto name = b.CreateString(t.name);
  const auto shape = b.CreateVector(t.shape);
  // Vectors only for what the tensor has: a scale (and zero point), a [min, max] range, or both.
  const Quantization& q = t.quant;
  fb::Offset<::tflite::QuantizationParameters> quantization = 0;
  if (!q.scale.empty() || !q.min.empty()) {
    const auto min = q.min.empty() ? 0 : b.CreateVector(q.min);
    const auto max = q.max.empty() ? 0 : b.CreateVector(q.max);
    const auto scale = q.scale.empty() ? 0 : b.CreateVector(q.scale);
    const auto zero_point = q.scale.empty() ? 0 : b.CreateVector(q.zero_point);
    quantization = ::tflite::CreateQuantizationParameters(b, min, max, scale, zero_point,
                                                          ::tflite::QuantizationDetails::NONE, 0,
                                                          q.quantized_dimension);
  }
  return ::tflite::CreateTensor(b, shape, tflite_type(t.type), buffer, name, quantization);
}

std::vector<uint8_t> build_model(const Graph& graph, int64_t size_hint) {
  fb::FlatBufferBuilder b(static_cast<size_t>(std::min<int64_t>(size_hint, 1 << 30)));

  // Buffers first: the builder fills its memory from the end, so the bulk data lands at the end
  // of the file, after the small tables. Buffer 0 is TFLite's empty sentinel, used by every
  // tensor without data.
  std::vector<fb::Offset<::tflite::Buffer>> buffers{::tflite::CreateBuffer(b)};
  std::vector<uint32_t> tensor_buffer(graph.tensors.size(), 0);
  for (size_t i = 0; i < graph.tensors.size(); ++i) {
    const Tensor& t = graph.tensors[i];
    if (t.data.empty()) continue;
    tensor_buffer[i] = static_cast<uint32_t>(buffers.size());
    buffers.push_back(::tflite::CreateBufferDirect(b, &t.data));  // 16-byte aligned data
  }

  std::vector<fb::Offset<::tflite::Tensor>> tensors;
  tensors.reserve(graph.tensors.size());
  for (size_t i = 0; i < graph.tensors.size(); ++i)
    tensors.push_back(write_tensor(b, graph.tensors[i], tensor_buffer[i]));

  // One operator code per (op type, version), numbered in order of first use.
  std::map<std::pair<OpType, int32_t>, uint32_t> code_index;
  std::vector<fb::Offset<::tflite::OperatorCode>> codes;
  std::vector<fb::Offset<::tflite::Operator>> operators;
  operators.reserve(graph.ops.size());
  for (const Op& op : graph.ops) {
    const auto [it, added] =
        code_index.try_emplace({op.type, op.version}, static_cast<uint32_t>(codes.size()));
    if (added) {
      const BuiltinOperator code = tflite_operator(op.type);
      codes.push_back(::tflite::CreateOperatorCode(b, deprecated_code(code), 0, op.version, code));
    }
    const auto inputs = b.CreateVector(op.inputs);
    const auto outputs = b.CreateVector(op.outputs);
    const auto [options_type, options] = write_options(b, op);
    operators.push_back(
        ::tflite::CreateOperator(b, it->second, inputs, outputs, options_type, options));
  }

  const auto subgraph = ::tflite::CreateSubGraph(
      b, b.CreateVector(tensors), b.CreateVector(graph.inputs), b.CreateVector(graph.outputs),
      b.CreateVector(operators), b.CreateString("main"));
  const auto description = graph.description.empty() ? 0 : b.CreateString(graph.description);
  // The class labels go in a buffer of their own, named by a metadata entry (TFLite's way of
  // carrying data no op reads; interpreters skip names they do not know).
  fb::Offset<fb::Vector<fb::Offset<::tflite::Metadata>>> metadata = 0;
  if (!graph.class_labels.empty()) {
    const std::vector<uint8_t> text(graph.class_labels.begin(), graph.class_labels.end());
    const auto index = static_cast<uint32_t>(buffers.size());
    buffers.push_back(::tflite::CreateBufferDirect(b, &text));
    metadata = b.CreateVector(std::vector{
        ::tflite::CreateMetadata(b, b.CreateString(std::string(kClassLabelsMetadataName)), index)});
  }
  const auto model =
      ::tflite::CreateModel(b, 3, b.CreateVector(codes), b.CreateVector(std::vector{subgraph}),
                            description, b.CreateVector(buffers), 0, metadata);
  ::tflite::FinishModelBuffer(b, model);
  return {b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize()};
}

}  // namespace

Result<std::vector<uint8_t>> write_tflite(const Graph& graph) {
  QSEG_RETURN_IF_ERROR(check_graph(graph).with_context("cannot write TFLite model"));
  return build_model(graph, size_bound(graph));
}

Status write_tflite_file(const Graph& graph, const std::filesystem::path& path) {
  QSEG_RETURN_IF_ERROR(check_graph(graph).with_context("cannot write " + path.string()));
  const std::vector<uint8_t> bytes = build_model(graph, size_bound(graph));
  return io::write_file_durably(path, bytes.data(), bytes.size());
}

}  // namespace qseg

// Names and sizes of the IR's types.
#include "qseg/graph.h"

#include <variant>

namespace qseg {

std::string_view data_type_name(DataType type) {
  switch (type) {
    case DataType::kFloat32:
      return "float32";
    case DataType::kInt32:
      return "int32";
    case DataType::kUInt8:
      return "uint8";
    case DataType::kInt64:
      return "int64";
    case DataType::kInt8:
      return "int8";
    case DataType::kInt16:
      return "int16";
    case DataType::kBool:
      return "bool";
  }
  return "unknown";
}

size_t data_type_size(DataType type) {
  switch (type) {
    case DataType::kFloat32:
      return 4;
    case DataType::kInt32:
      return 4;
    case DataType::kUInt8:
      return 1;
    case DataType::kInt64:
      return 8;
    case DataType::kInt8:
      return 1;
    case DataType::kInt16:
      return 2;
    case DataType::kBool:
      return 1;
  }
  return 0;
}

std::string_view op_type_name(OpType type) {
  switch (type) {
    case OpType::kAdd:
      return "ADD";
    case OpType::kAveragePool2d:
      return "AVERAGE_POOL_2D";
    case OpType::kConcatenation:
      return "CONCATENATION";
    case OpType::kConv2d:
      return "CONV_2D";
    case OpType::kDepthwiseConv2d:
      return "DEPTHWISE_CONV_2D";
    case OpType::kDequantize:
      return "DEQUANTIZE";
    case OpType::kQuantize:
      return "QUANTIZE";
    case OpType::kResizeBilinear:
      return "RESIZE_BILINEAR";
    case OpType::kReshape:
      return "RESHAPE";
    case OpType::kArgMax:
      return "ARG_MAX";
    case OpType::kTile:
      return "TILE";
    case OpType::kPad:
      return "PAD";
    case OpType::kPadV2:
      return "PADV2";
    case OpType::kSpaceToBatchNd:
      return "SPACE_TO_BATCH_ND";
    case OpType::kBatchToSpaceNd:
      return "BATCH_TO_SPACE_ND";
    case OpType::kResizeNearestNeighbor:
      return "RESIZE_NEAREST_NEIGHBOR";
    case OpType::kCast:
      return "CAST";
    case OpType::kMean:
      return "MEAN";
    case OpType::kMul:
      return "MUL";
    case OpType::kSub:
      return "SUB";
    case OpType::kHardSwish:
      return "HARD_SWISH";
    case OpType::kLogistic:
      return "LOGISTIC";
    case OpType::kUnsupported:
      return "UNSUPPORTED";
  }
  return "UNKNOWN";
}

std::string op_name(const Op& op) {
  const auto* unsupported = std::get_if<UnsupportedOptions>(&op.options);
  if (op.type != OpType::kUnsupported || unsupported == nullptr)
    return std::string(op_type_name(op.type));
  if (!unsupported->custom_code.empty())
    return unsupported->tflite_name + " '" + unsupported->custom_code + "'";
  return unsupported->tflite_name;
}

int64_t Tensor::num_elements() const {
  int64_t n = 1;
  for (int32_t d : shape) n *= d;
  return n;
}

}  // namespace qseg

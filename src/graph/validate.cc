// validate_graph: tensor, op, index and dataflow checks of the IR, one place for every caller.
#include "graph/validate.h"

#include <cmath>
#include <string>
#include <variant>
#include <vector>

namespace qseg {

namespace {

constexpr int64_t kMaxElements = int64_t{1} << 40;

bool valid_type(DataType type) {
  switch (type) {
    case DataType::kFloat32:
    case DataType::kInt32:
    case DataType::kUInt8:
    case DataType::kInt64:
    case DataType::kInt8:
    case DataType::kInt16:
    case DataType::kBool:
      return true;
  }
  return false;
}

Status check_quantization(const Tensor& t) {
  const Quantization& q = t.quant;
  if (q.scale.size() != q.zero_point.size()) {
    return Status::error("quantization has " + std::to_string(q.scale.size()) + " scales but " +
                         std::to_string(q.zero_point.size()) + " zero points");
  }
  if (q.scale.size() > 1) {
    const int32_t dim = q.quantized_dimension;
    if (dim < 0 || dim >= static_cast<int32_t>(t.shape.size()) ||
        static_cast<int64_t>(q.scale.size()) != t.shape[dim]) {
      return Status::error("per-channel quantization with " + std::to_string(q.scale.size()) +
                           " scales does not match dimension " + std::to_string(dim) +
                           " of the shape");
    }
  }
  if (q.min.size() != q.max.size() || q.min.size() > 1) {
    return Status::error("quantization range has " + std::to_string(q.min.size()) + " min and " +
                         std::to_string(q.max.size()) + " max values (0 or 1 of each)");
  }
  if (!q.min.empty() &&
      !(std::isfinite(q.min[0]) && std::isfinite(q.max[0]) && q.min[0] <= q.max[0])) {
    return Status::error("quantization range [" + std::to_string(q.min[0]) + ", " +
                         std::to_string(q.max[0]) + "] is not a finite range");
  }
  for (size_t i = 0; i < q.scale.size(); ++i) {
    if (!(q.scale[i] > 0.0f) || !std::isfinite(q.scale[i])) {
      return Status::error("quantization scale " + std::to_string(q.scale[i]) +
                           " is not a finite positive number");
    }
    if (q.zero_point[i] < -32768 || q.zero_point[i] > 65535)
      return Status::error("zero point " + std::to_string(q.zero_point[i]) + " is out of range");
  }
  return Status::ok();
}

Status check_tensor(const Tensor& t) {
  if (!valid_type(t.type))
    return Status::error("type " + std::to_string(static_cast<int>(t.type)) + " is not valid");
  int64_t elements = 1;
  for (int32_t d : t.shape) {
    if (d < 0) return Status::error("negative dimension " + std::to_string(d) + " in shape");
    if (d > 0 && elements > kMaxElements / d)
      return Status::error("shape holds more than 2^40 elements");
    elements *= d;
  }
  if (!t.data.empty() && static_cast<int64_t>(t.data.size()) != t.byte_size()) {
    return Status::error("holds " + std::to_string(t.data.size()) + " bytes of data, the shape " +
                         "needs " + std::to_string(t.byte_size()));
  }
  if (t.is_constant && t.data.empty() && t.num_elements() > 0)
    return Status::error("is marked constant but holds no data");
  return check_quantization(t);
}

Status check_indices(const std::vector<int32_t>& indices, size_t tensor_count, bool allow_absent,
                     const char* what) {
  for (int32_t index : indices) {
    if (allow_absent && index == kNoTensor) continue;
    if (index < 0 || static_cast<size_t>(index) >= tensor_count) {
      return Status::error(std::string(what) + " tensor index " + std::to_string(index) +
                           " is out of range (" + std::to_string(tensor_count) + " tensors)");
    }
  }
  return Status::ok();
}

// kUnsupported is the last OpType.
bool known_op_type(OpType type) {
  return static_cast<int>(type) <= static_cast<int>(OpType::kUnsupported);
}

// Each op type carries one options alternative (none for QUANTIZE, DEQUANTIZE and the data
// movement ops whose parameters are input tensors, HARD_SWISH and LOGISTIC).
bool options_match(const Op& op) {
  switch (op.type) {
    case OpType::kAdd:
      return std::holds_alternative<AddOptions>(op.options);
    case OpType::kAveragePool2d:
      return std::holds_alternative<Pool2dOptions>(op.options);
    case OpType::kConcatenation:
      return std::holds_alternative<ConcatenationOptions>(op.options);
    case OpType::kConv2d:
      return std::holds_alternative<Conv2dOptions>(op.options);
    case OpType::kDepthwiseConv2d:
      return std::holds_alternative<DepthwiseConv2dOptions>(op.options);
    case OpType::kDequantize:
    case OpType::kQuantize:
    case OpType::kTile:
    case OpType::kPad:
    case OpType::kPadV2:
    case OpType::kSpaceToBatchNd:
    case OpType::kBatchToSpaceNd:
    case OpType::kCast:
      return std::holds_alternative<std::monostate>(op.options);
    case OpType::kResizeNearestNeighbor:
      return std::holds_alternative<ResizeNearestNeighborOptions>(op.options);
    case OpType::kUnsupported:
      return std::holds_alternative<UnsupportedOptions>(op.options);
    case OpType::kResizeBilinear:
      return std::holds_alternative<ResizeBilinearOptions>(op.options);
    case OpType::kReshape:
      return std::holds_alternative<ReshapeOptions>(op.options);
    case OpType::kArgMax:
      return std::holds_alternative<ArgMaxOptions>(op.options);
    case OpType::kMean:
      return std::holds_alternative<MeanOptions>(op.options);
    case OpType::kMul:
      return std::holds_alternative<MulOptions>(op.options);
    case OpType::kSub:
      return std::holds_alternative<SubOptions>(op.options);
    case OpType::kHardSwish:
    case OpType::kLogistic:
      return std::holds_alternative<std::monostate>(op.options);
  }
  return false;
}

Status check_op(const Op& op, size_t tensor_count) {
  if (!known_op_type(op.type))
    return Status::error("op type " + std::to_string(static_cast<int>(op.type)) + " is not valid");
  if (op.outputs.empty()) return Status::error("has no outputs");
  QSEG_RETURN_IF_ERROR(check_indices(op.inputs, tensor_count, true, "input"));
  QSEG_RETURN_IF_ERROR(check_indices(op.outputs, tensor_count, false, "output"));
  if (!options_match(op)) return Status::error("its options do not match the op type");
  return Status::ok();
}

std::string op_label(const Graph& graph, size_t i) {
  return "op " + std::to_string(i) + " (" + op_name(graph.ops[i]) + ")";
}

// Every op input must be a constant, a graph input or the output of an earlier op; every tensor
// is written by at most one op; graph outputs are produced. Indices are in range (checked first).
Status check_dataflow(const Graph& graph) {
  std::vector<char> ready(graph.tensors.size(), 0);
  for (size_t i = 0; i < graph.tensors.size(); ++i) ready[i] = graph.tensors[i].is_constant;
  for (int32_t in : graph.inputs) {
    if (graph.tensors[in].is_constant)
      return Status::error("graph input " + std::to_string(in) + " is a constant");
    ready[in] = 1;
  }
  for (size_t i = 0; i < graph.ops.size(); ++i) {
    for (int32_t in : graph.ops[i].inputs) {
      if (in != kNoTensor && !ready[in]) {
        return Status::error(op_label(graph, i) + " reads tensor " + std::to_string(in) +
                             " before anything writes it");
      }
    }
    for (int32_t out : graph.ops[i].outputs) {
      if (ready[out]) {
        return Status::error(op_label(graph, i) + " writes tensor " + std::to_string(out) +
                             ", which is already defined");
      }
      ready[out] = 1;
    }
  }
  for (int32_t out : graph.outputs) {
    if (!ready[out])
      return Status::error("graph output tensor " + std::to_string(out) + " is never written");
  }
  return Status::ok();
}

}  // namespace

Status validate_graph(const Graph& graph) {
  const size_t count = graph.tensors.size();
  for (size_t i = 0; i < count; ++i) {
    const Tensor& t = graph.tensors[i];
    if (Status s = check_tensor(t); !s.is_ok())
      return s.with_context("tensor " + std::to_string(i) + " '" + t.name + "'");
  }
  for (size_t i = 0; i < graph.ops.size(); ++i) {
    if (Status s = check_op(graph.ops[i], count); !s.is_ok())
      return s.with_context(op_label(graph, i));
  }
  QSEG_RETURN_IF_ERROR(check_indices(graph.inputs, count, false, "graph input"));
  QSEG_RETURN_IF_ERROR(check_indices(graph.outputs, count, false, "graph output"));
  if (graph.inputs.empty() || graph.outputs.empty())
    return Status::error("the graph has no inputs or no outputs");
  return check_dataflow(graph);
}

std::vector<int> unsupported_ops(const Graph& graph) {
  std::vector<int> indices;
  for (size_t i = 0; i < graph.ops.size(); ++i) {
    if (graph.ops[i].type == OpType::kUnsupported) indices.push_back(static_cast<int>(i));
  }
  return indices;
}

Status unsupported_op_error(const Op& op) {
  const auto* o = std::get_if<UnsupportedOptions>(&op.options);
  return Status::error("qseg cannot run this op (TFLite builtin code " +
                       std::to_string(o ? o->builtin_code : -1) + ")");
}

Status check_runnable(const Graph& graph) {
  const std::vector<int> unsupported = unsupported_ops(graph);
  if (unsupported.empty()) return Status::ok();
  const int first = unsupported.front();
  std::string message =
      op_label(graph, first) + ": " + std::string(unsupported_op_error(graph.ops[first]).message());
  if (unsupported.size() > 1)
    message += "; " + std::to_string(unsupported.size()) + " ops of the model cannot run";
  return Status::error(message + " (qseg inspect lists every op)");
}

}  // namespace qseg

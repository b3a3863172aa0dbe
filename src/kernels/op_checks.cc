// Tensor lookup, type, shape and quantization checks shared by the prepare functions.
#include "kernels/op_checks.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "kernels/shape.h"

namespace qseg::kernels {

namespace {

Result<const Tensor*> tensor_at(const Graph& graph, int32_t tensor_index, const std::string& role) {
  if (tensor_index < 0 || static_cast<size_t>(tensor_index) >= graph.tensors.size()) {
    return Status::error(role + " refers to tensor " + std::to_string(tensor_index) +
                         ", outside the graph's " + std::to_string(graph.tensors.size()) +
                         " tensors");
  }
  const Tensor& tensor = graph.tensors[tensor_index];
  for (int32_t d : tensor.shape) {
    if (d < 0) return Status::error(role + " has a negative dim: " + shape_string(tensor.shape));
  }
  if (tensor.is_constant && static_cast<int64_t>(tensor.data.size()) != tensor.byte_size()) {
    return Status::error(role + " is a constant of " + std::to_string(tensor.data.size()) +
                         " bytes, but its shape " + shape_string(tensor.shape) + " and type " +
                         std::string(data_type_name(tensor.type)) + " need " +
                         std::to_string(tensor.byte_size()));
  }
  return &tensor;
}

bool is_valid_scale(float scale) { return std::isfinite(scale) && scale > 0.0f; }

}  // namespace

Status check_io_count(const Op& op, int min_inputs, int max_inputs, int outputs) {
  const int n = static_cast<int>(op.inputs.size());
  if (n < min_inputs || n > max_inputs) {
    const std::string expected =
        min_inputs == max_inputs ? std::to_string(min_inputs)
                                 : std::to_string(min_inputs) + " to " + std::to_string(max_inputs);
    return Status::error("expected " + expected + " inputs, got " + std::to_string(n));
  }
  if (static_cast<int>(op.outputs.size()) != outputs) {
    return Status::error("expected " + std::to_string(outputs) + " output(s), got " +
                         std::to_string(op.outputs.size()));
  }
  return Status::ok();
}

Result<const Tensor*> input_tensor(const Graph& graph, const Op& op, int index) {
  const std::string role = "input " + std::to_string(index);
  if (index < 0 || static_cast<size_t>(index) >= op.inputs.size() ||
      op.inputs[index] == kNoTensor) {
    return Status::error(role + " is missing");
  }
  return tensor_at(graph, op.inputs[index], role);
}

Result<const Tensor*> optional_input_tensor(const Graph& graph, const Op& op, int index) {
  if (index < 0 || static_cast<size_t>(index) >= op.inputs.size() ||
      op.inputs[index] == kNoTensor) {
    return static_cast<const Tensor*>(nullptr);
  }
  return tensor_at(graph, op.inputs[index], "input " + std::to_string(index));
}

Result<const Tensor*> output_tensor(const Graph& graph, const Op& op, int index) {
  const std::string role = "output " + std::to_string(index);
  if (index < 0 || static_cast<size_t>(index) >= op.outputs.size()) {
    return Status::error(role + " is missing");
  }
  return tensor_at(graph, op.outputs[index], role);
}

Status check_type(const Tensor& tensor, std::string_view role,
                  std::initializer_list<DataType> allowed) {
  for (DataType type : allowed) {
    if (tensor.type == type) return Status::ok();
  }
  std::string list;
  size_t i = 0;
  for (DataType type : allowed) {
    if (i > 0) list += (i + 1 == allowed.size()) ? " or " : ", ";
    list += data_type_name(type);
    ++i;
  }
  return Status::error(std::string(role) + " must be " + list + ", got " +
                       std::string(data_type_name(tensor.type)));
}

Status check_same_type(const Tensor& tensor, std::string_view role, const Tensor& reference,
                       std::string_view reference_role) {
  if (tensor.type == reference.type) return Status::ok();
  return Status::error(
      std::string(role) + " must be " + std::string(data_type_name(reference.type)) + " like the " +
      std::string(reference_role) + ", got " + std::string(data_type_name(tensor.type)));
}

Status check_output_shape(const Tensor& output, const std::vector<int32_t>& expected) {
  if (output.shape == expected) return Status::ok();
  return Status::error("output shape " + shape_string(output.shape) +
                       " does not match the computed shape " + shape_string(expected));
}

quant::QuantizedRange type_range(DataType type) {
  if (type == DataType::kInt8) return {quant::qmin<int8_t>(), quant::qmax<int8_t>()};
  return {quant::qmin<uint8_t>(), quant::qmax<uint8_t>()};
}

Result<TensorQuantization> per_tensor_quantization(const Tensor& tensor, std::string_view role) {
  const std::string name(role);
  const Quantization& q = tensor.quant;
  if (q.empty()) return Status::error(name + " has no quantization parameters");
  if (q.scale.size() != 1) {
    return Status::error(name + " must be quantized per tensor, got " +
                         std::to_string(q.scale.size()) + " scales");
  }
  if (q.zero_point.size() != 1) {
    return Status::error(name + " has " + std::to_string(q.zero_point.size()) +
                         " zero points for 1 scale");
  }
  if (!is_valid_scale(q.scale[0])) {
    return Status::error(name + " scale must be positive and finite, got " +
                         std::to_string(q.scale[0]));
  }
  const quant::QuantizedRange range = type_range(tensor.type);
  if (q.zero_point[0] < range.min || q.zero_point[0] > range.max) {
    return Status::error(name + " zero point " + std::to_string(q.zero_point[0]) +
                         " is outside the " + std::string(data_type_name(tensor.type)) +
                         " range [" + std::to_string(range.min) + ", " + std::to_string(range.max) +
                         "]");
  }
  return TensorQuantization{q.scale[0], static_cast<int32_t>(q.zero_point[0])};
}

Result<std::vector<float>> per_channel_scales(const Tensor& weights, std::string_view role,
                                              int32_t dimension, int32_t channels) {
  const std::string name(role);
  const Quantization& q = weights.quant;
  if (q.empty()) return Status::error(name + " has no quantization parameters");
  if (q.zero_point.size() != q.scale.size()) {
    return Status::error(name + " has " + std::to_string(q.zero_point.size()) +
                         " zero points for " + std::to_string(q.scale.size()) + " scales");
  }
  if (q.scale.size() != 1) {
    if (q.quantized_dimension != dimension) {
      return Status::error(name + " must be quantized along dimension " +
                           std::to_string(dimension) + ", got " +
                           std::to_string(q.quantized_dimension));
    }
    if (q.scale.size() != static_cast<size_t>(channels)) {
      return Status::error(name + " has " + std::to_string(q.scale.size()) +
                           " per-channel scales, expected " + std::to_string(channels));
    }
  }
  for (size_t i = 0; i < q.scale.size(); ++i) {
    if (!is_valid_scale(q.scale[i])) {
      return Status::error(name + " scale " + std::to_string(i) +
                           " must be positive and finite, got " + std::to_string(q.scale[i]));
    }
    if (q.zero_point[i] != 0) {
      return Status::error(name + " must be symmetric (zero point 0), got zero point " +
                           std::to_string(q.zero_point[i]) + " for channel " + std::to_string(i));
    }
  }
  if (q.scale.size() == 1) return std::vector<float>(channels, q.scale[0]);
  return q.scale;
}

Result<std::vector<int64_t>> constant_integers(const Tensor& tensor, std::string_view role) {
  const std::string name(role);
  if (!tensor.is_constant) return Status::error(name + " must be a constant tensor");
  QSEG_RETURN_IF_ERROR(check_type(tensor, role, {DataType::kInt32, DataType::kInt64}));
  const int64_t n = tensor.num_elements();
  std::vector<int64_t> values(n);
  for (int64_t i = 0; i < n; ++i) {
    if (tensor.type == DataType::kInt32) {
      int32_t v = 0;
      std::memcpy(&v, tensor.data.data() + i * 4, 4);
      values[i] = v;
    } else {
      std::memcpy(&values[i], tensor.data.data() + i * 8, 8);
    }
  }
  return values;
}

Result<std::vector<std::pair<int64_t, int64_t>>> constant_pairs(const Tensor& tensor,
                                                                std::string_view role,
                                                                int64_t rows) {
  const std::string name(role);
  if (tensor.shape != std::vector<int32_t>{static_cast<int32_t>(rows), 2}) {
    return Status::error(name + " must have shape [" + std::to_string(rows) + ",2], got " +
                         shape_string(tensor.shape));
  }
  QSEG_ASSIGN_OR_RETURN(const std::vector<int64_t> values, constant_integers(tensor, role));
  std::vector<std::pair<int64_t, int64_t>> pairs;
  for (int64_t i = 0; i < rows; ++i) {
    for (const int64_t v : {values[2 * i], values[2 * i + 1]}) {
      if (v < 0 || v > std::numeric_limits<int32_t>::max()) {
        return Status::error(name + " of dimension " + std::to_string(i) + " must be in [0, " +
                             std::to_string(std::numeric_limits<int32_t>::max()) + "], got " +
                             std::to_string(v));
      }
    }
    pairs.emplace_back(values[2 * i], values[2 * i + 1]);
  }
  return pairs;
}

}  // namespace qseg::kernels

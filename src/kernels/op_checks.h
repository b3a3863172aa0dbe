// Checks that every prepare function shares: tensor lookup, input/output counts, types, shapes and
// quantization parameters. Messages name the tensor's role ("weights must be uint8 or int8, got
// int64"), never the op: the registry prefixes "op N (OPNAME): ".
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "qseg/graph.h"
#include "qseg/status.h"
#include "quant/quant.h"

namespace qseg::kernels {

// Error unless the op has min_inputs..max_inputs inputs and exactly `outputs` outputs.
Status check_io_count(const Op& op, int min_inputs, int max_inputs, int outputs);

// The tensor of input `index`, which must be present. Checks the tensor index, that no dim is
// negative, and that a constant holds exactly byte_size() bytes of data.
Result<const Tensor*> input_tensor(const Graph& graph, const Op& op, int index);
// As input_tensor, but nullptr when the input is absent (kNoTensor or past the end).
Result<const Tensor*> optional_input_tensor(const Graph& graph, const Op& op, int index);
Result<const Tensor*> output_tensor(const Graph& graph, const Op& op, int index);

// "weights must be uint8 or int8, got int64".
Status check_type(const Tensor& tensor, std::string_view role,
                  std::initializer_list<DataType> allowed);
// "output must be uint8 like the input, got int8".
Status check_same_type(const Tensor& tensor, std::string_view role, const Tensor& reference,
                       std::string_view reference_role);
// "output shape [1,4,4,8] does not match the computed shape [1,3,3,8]".
Status check_output_shape(const Tensor& output, const std::vector<int32_t>& expected);

// The value range of an 8-bit type: [0, 255] for uint8, [-128, 127] for int8.
quant::QuantizedRange type_range(DataType type);
inline bool is_quantized_8bit(DataType type) {
  return type == DataType::kUInt8 || type == DataType::kInt8;
}

struct TensorQuantization {
  float scale = 1.0f;
  int32_t zero_point = 0;
};
// The per-tensor quantization of a uint8/int8 tensor: exactly one scale, positive and finite,
// and one zero point within the type's range.
Result<TensorQuantization> per_tensor_quantization(const Tensor& tensor, std::string_view role);

// The scales of convolution weights with per-channel symmetric quantization (int8 weights of
// int8 kernels), expanded to `channels` entries: either one scale, or `channels` scales along
// quantized_dimension == `dimension`; every scale positive and finite, every zero point 0.
Result<std::vector<float>> per_channel_scales(const Tensor& weights, std::string_view role,
                                              int32_t dimension, int32_t channels);

// Reads the constant int32 or int64 tensor's values (e.g. a size or axis input).
Result<std::vector<int64_t>> constant_integers(const Tensor& tensor, std::string_view role);

// The [rows, 2] constant int32/int64 (before, after) pairs of a PAD-like input (paddings, crops):
// the shape must be [rows, 2] and every value in [0, 2^31).
Result<std::vector<std::pair<int64_t, int64_t>>> constant_pairs(const Tensor& tensor,
                                                                std::string_view role,
                                                                int64_t rows);

// The op's options of type T, or an error naming what is missing.
template <typename T>
Result<T> options_of(const Op& op, std::string_view what) {
  if (const T* options = std::get_if<T>(&op.options)) return *options;
  return Status::error("missing " + std::string(what));
}

}  // namespace qseg::kernels

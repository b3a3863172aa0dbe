// NumPy-style broadcasting of two inputs, shared by the binary elementwise ops (ADD, MUL, SUB):
// dims aligned from the right, each pair equal or one of them 1, rank up to kMaxRank.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "qseg/graph.h"
#include "qseg/status.h"

namespace qseg::kernels {

struct BroadcastShape {
  static constexpr int kMaxRank = 6;

  // Broadcasting only: the output dims (rank `rank`) and each input's element strides along
  // them, 0 where that input has size 1 and is repeated.
  bool broadcast = false;
  int32_t rank = 0;
  std::array<int64_t, kMaxRank> output_dims{};
  std::array<int64_t, kMaxRank> input1_strides{};
  std::array<int64_t, kMaxRank> input2_strides{};
};

// Fills `shape` from the inputs' shapes and returns the output shape; an error naming both shapes
// when they do not broadcast or their rank exceeds kMaxRank.
Result<std::vector<int32_t>> broadcast_shapes(const Tensor& input1, const Tensor& input2,
                                              BroadcastShape& shape);

// The tensors of a binary elementwise op (two inputs, one output, all uint8, int8 or float32 of
// one type, shapes that broadcast to the output's) and, for 8-bit types, their per-tensor
// quantization. Fills `shape`.
struct BinaryOperands {
  const Tensor* input1 = nullptr;
  const Tensor* input2 = nullptr;
  const Tensor* output = nullptr;
  DataType type = DataType::kFloat32;
  float scale1 = 1.0f, scale2 = 1.0f, output_scale = 1.0f;  // 8-bit types only
  int32_t zero_point1 = 0, zero_point2 = 0, output_zero_point = 0;
};
Result<BinaryOperands> binary_operands(const Graph& graph, const Op& op, BroadcastShape& shape);

// Calls f(output_index, input1_index, input2_index) for output elements [begin, end) (flat,
// row-major).
template <typename F>
void for_each_broadcast_element(const BroadcastShape& p, int64_t begin, int64_t end, F f) {
  if (!p.broadcast) {
    for (int64_t i = begin; i < end; ++i) f(i, i, i);
    return;
  }
  // An odometer over the output dims, started at `begin`, carrying both input offsets.
  std::array<int64_t, BroadcastShape::kMaxRank> index{};
  int64_t rest = begin, offset1 = 0, offset2 = 0;
  for (int32_t d = p.rank - 1; d >= 0; --d) {
    index[d] = rest % p.output_dims[d];
    rest /= p.output_dims[d];
    offset1 += index[d] * p.input1_strides[d];
    offset2 += index[d] * p.input2_strides[d];
  }
  for (int64_t i = begin; i < end; ++i) {
    f(i, offset1, offset2);
    for (int32_t d = p.rank - 1; d >= 0; --d) {
      offset1 += p.input1_strides[d];
      offset2 += p.input2_strides[d];
      if (++index[d] < p.output_dims[d]) break;
      offset1 -= p.input1_strides[d] * p.output_dims[d];
      offset2 -= p.input2_strides[d] * p.output_dims[d];
      index[d] = 0;
    }
  }
}

}  // namespace qseg::kernels

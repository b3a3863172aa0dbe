// MEAN over any axes of an input of rank up to kMaxRank (e.g. the global pool of squeeze-excite:
// axes {1, 2} of NHWC with keep_dims): the parameters prepared once from the graph, and the
// reference kernels.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "qseg/graph.h"
#include "qseg/requantization.h"
#include "qseg/status.h"
#include "quant/elementwise.h"

namespace qseg::kernels {

struct MeanParams {
  static constexpr int kMaxRank = 6;

  DataType type = DataType::kFloat32;  // of the input and the output: uint8, int8 or float32
  int64_t outputs = 0;                 // output elements, one mean each
  int64_t count = 1;                   // input elements per mean
  // The input's kept dims (in order; their flat index is the output's) and reduced dims, with
  // their element strides in the input.
  int32_t kept_rank = 0;
  std::array<int64_t, kMaxRank> kept_dims{};
  std::array<int64_t, kMaxRank> kept_strides{};
  int32_t reduced_rank = 0;
  std::array<int64_t, kMaxRank> reduced_dims{};
  std::array<int64_t, kMaxRank> reduced_strides{};
  // 8-bit: XNNPACK's global average pooling when the requantization is kXnnpack and XNNPACK
  // takes the op (4-D, axes {1, 2} or {2}, scales in range), else TFLite's built-in arithmetic.
  std::optional<quant::XnnpackMean> xnnpack;
  // float32 in XNNPACK's global average pooling: its summation order (rows 7 at a time) and a
  // multiplication by 1 / count, instead of summing in order and dividing.
  bool xnnpack_float = false;
  quant::MeanQuantization quantization;
  quant::QuantizedRange range;
};

// Inputs: the tensor and its axes (a constant int32 tensor; negative axes count from the end,
// repeats count once). Options: MeanOptions. The output shape is the input's with reduced dims 1
// (keep_dims) or removed.
Result<MeanParams> prepare_mean(const Graph& graph, const Op& op,
                                Requantization requantization = Requantization::kFixedPoint);

namespace ref {

// Each computes output elements [begin, end).
void mean_uint8(const MeanParams& params, const uint8_t* input, uint8_t* output, int64_t begin,
                int64_t end);
void mean_int8(const MeanParams& params, const int8_t* input, int8_t* output, int64_t begin,
               int64_t end);
void mean_float(const MeanParams& params, const float* input, float* output, int64_t begin,
                int64_t end);

}  // namespace ref
}  // namespace qseg::kernels

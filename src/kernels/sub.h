// SUB: the parameters prepared once from the graph, and the reference kernels. Inputs of the same
// shape, or of shapes that broadcast NumPy-style (kernels/broadcast.h).
#pragma once

#include <cstdint>
#include <optional>

#include "kernels/broadcast.h"
#include "qseg/graph.h"
#include "qseg/requantization.h"
#include "qseg/status.h"
#include "quant/elementwise.h"

namespace qseg::kernels {

struct SubParams : BroadcastShape {
  DataType type = DataType::kFloat32;   // of both inputs and the output: uint8, int8 or float32
  int64_t size = 0;                     // output elements
  quant::AddQuantization quantization;  // uint8 and int8: TFLite's built-in (ADD's scheme)
  // Set when the requantization is Requantization::kXnnpack and XNNPACK takes these scales: the
  // 8-bit kernels then compute quant::add_xnnpack (with xnnpack_sub_params) instead of
  // quant::sub_quantized.
  std::optional<quant::XnnpackAdd> xnnpack;
  quant::QuantizedRange activation_range;
  quant::FloatRange float_activation_range;  // float32 kernel
};

// Inputs: two tensors. Options: SubOptions. `requantization` picks the 8-bit arithmetic.
Result<SubParams> prepare_sub(const Graph& graph, const Op& op,
                              Requantization requantization = Requantization::kFixedPoint);

namespace ref {

// Each computes output elements [begin, end) (flat, row-major); float32 subtracts and clamps.
void sub_uint8(const SubParams& params, const uint8_t* input1, const uint8_t* input2,
               uint8_t* output, int64_t begin, int64_t end);
void sub_int8(const SubParams& params, const int8_t* input1, const int8_t* input2, int8_t* output,
              int64_t begin, int64_t end);
void sub_float(const SubParams& params, const float* input1, const float* input2, float* output,
               int64_t begin, int64_t end);

}  // namespace ref
}  // namespace qseg::kernels

// ADD: the parameters prepared once from the graph, and the reference kernels. Inputs of the same
// shape, or of shapes that broadcast NumPy-style (kernels/broadcast.h).
#pragma once

#include <cstdint>
#include <optional>

#include "kernels/broadcast.h"
#include "qseg/graph.h"
#include "qseg/requantization.h"
#include "qseg/status.h"
#include "quant/quant.h"

namespace qseg::kernels {

// The broadcasting fields come from BroadcastShape.
struct AddParams : BroadcastShape {
  DataType type = DataType::kFloat32;   // of both inputs and the output: uint8, int8 or float32
  int64_t size = 0;                     // output elements
  quant::AddQuantization quantization;  // uint8 and int8 kernels: TFLite's built-in arithmetic
  // Set when the requantization is Requantization::kXnnpack and XNNPACK takes these scales: the
  // 8-bit kernels then compute quant::add_xnnpack instead of quant::add_quantized.
  std::optional<quant::XnnpackAdd> xnnpack;
  quant::QuantizedRange activation_range;
  quant::FloatRange float_activation_range;  // float32 kernel
};

// Inputs: two tensors. Options: AddOptions (absent means no activation). The output may have
// its own scale and zero point. `requantization` picks the 8-bit arithmetic.
Result<AddParams> prepare_add(const Graph& graph, const Op& op,
                              Requantization requantization = Requantization::kFixedPoint);

namespace ref {

// Each computes output elements [begin, end) (flat, row-major). uint8/int8 follow XNNPACK's
// arithmetic (quant::add_xnnpack) when params.xnnpack is set, else TFLite's fixed-point scheme
// (quant::add_quantized); float32 adds and clamps.
void add_uint8(const AddParams& params, const uint8_t* input1, const uint8_t* input2,
               uint8_t* output, int64_t begin, int64_t end);
void add_int8(const AddParams& params, const int8_t* input1, const int8_t* input2, int8_t* output,
              int64_t begin, int64_t end);
void add_float(const AddParams& params, const float* input1, const float* input2, float* output,
               int64_t begin, int64_t end);

}  // namespace ref
}  // namespace qseg::kernels

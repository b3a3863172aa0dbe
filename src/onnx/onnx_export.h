// qseg Graph -> ONNX model (opset 13, QDQ form) for ONNX Runtime, TensorRT and OpenVINO; the only
// code that sees ONNX's protobuf types is src/onnx (this header shows none of them).
//
// Usage:
//   QSEG_ASSIGN_OR_RETURN(Graph graph, read_tflite_file("m.tflite"));
//   QSEG_RETURN_IF_ERROR(write_onnx_file(graph, "m.onnx"));
//
// What is written, for the ops of DeepLab's .tflite files (CONV_2D, DEPTHWISE_CONV_2D, ADD,
// CONCATENATION, AVERAGE_POOL_2D, RESIZE_BILINEAR, ARG_MAX, QUANTIZE, DEQUANTIZE, RESHAPE):
// - The inputs and outputs keep the .tflite's names, types and NHWC shapes; inside, 4-D tensors
//   are NCHW (a Transpose after the input, and before a RESHAPE or a 4-D output).
// - 8-bit ops in QDQ form: each quantized input is dequantized (DequantizeLinear), the float op
//   runs, its output is quantized (QuantizeLinear) with the .tflite tensor's scale and zero point.
//   Weights stay 8-bit initializers (per-channel int8 weights as per-axis DequantizeLinear on the
//   output channels), biases int32 at scale input x weight. ONNX Runtime fuses such groups into
//   its integer kernels (QLinearConv, QLinearAdd, QLinearGlobalAveragePool, ...).
// - uint8 weights are written as int8 with the zero point moved down by 128 (the same reals):
//   ONNX Runtime's x86 kernels run uint8 x int8 faster than uint8 x uint8 (dm0.5: 20% less time
//   in its convolutions). OnnxExportOptions::uint8_weights keeps the .tflite's codes.
// - int8 activations are written as uint8 with the zero point moved up by 128: the same reals and
//   the same rounding, but ONNX Runtime fuses QDQ groups with uint8 activations only on x86.
// - A fused activation (RELU, RELU6, RELU_N1_TO_1) is a Clip of the quantized values after the
//   QuantizeLinear, and only where it clamps more than the 8-bit range does (it never does in the
//   published models); float ops get Relu or Clip.
// - Data movement on 8-bit tensors (Transpose, Reshape, Concat of inputs on the output's grid)
//   runs on the bytes.
// - Where TFLite (with XNNPACK) rounds half up rather than half to even, the QDQ form is adjusted
//   so that ONNX's QuantizeLinear gives the same bytes: a QUANTIZE between grids is XNNPACK's
//   8-bit conversion (DequantizeLinear by its 8-fractional-bit multiplier, + 1/1024,
//   QuantizeLinear with scale 1), an 8-bit resize whose interpolation is exact in float gets
//   + 2^-16 before its QuantizeLinear. With these, ONNX Runtime gives the published DeepLab
//   models' bytes (the backbone's QLinearConv and QLinearAdd round as TFLite there);
//   OnnxExportOptions::plain_qdq writes the plain form.
// - Float32 models are written as float ops.
// The model passes onnx::checker before it is returned. Errors name the op ("op 12 (TILE): ONNX
// export does not map this op ...") or the file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "qseg/graph.h"
#include "qseg/status.h"

namespace qseg {

inline constexpr int kOnnxOpset = 13;

struct OnnxExportOptions {
  // Write uint8 weights as the .tflite stores them instead of as int8: on x86 CPUs without VNNI
  // ONNX Runtime's uint8 x int8 kernels may saturate int16 pair sums (its documented U8S8 caveat),
  // its uint8 x uint8 kernels do not.
  bool uint8_weights = false;
  // Write every QUANTIZE between grids and every 8-bit RESIZE_BILINEAR as plain QDQ (the real value
  // rounded half to even, as ONNX's QuantizeLinear defines it) instead of reproducing XNNPACK's
  // rounding (what TFLite computes): ONNX Runtime then runs the final resize without a float Add
  // (dm0.5: about 5 ms less at 1 thread), and its labels differ from TFLite's on ~0.2% of pixels.
  bool plain_qdq = false;
};

struct OnnxExport {
  std::string bytes;                     // the serialized ModelProto
  std::map<std::string, int> op_counts;  // ONNX node types and how many of each
  int nodes = 0;
  int initializers = 0;
};

// The graph as an ONNX model; `name` (the source file) prefixes errors.
Result<OnnxExport> export_onnx(const Graph& graph, const std::string& name,
                               const OnnxExportOptions& options = {});

// Writes it atomically (io::write_file_durably): PATH is the old file or the whole new one.
Result<OnnxExport> write_onnx_file(const Graph& graph, const std::string& name,
                                   const std::filesystem::path& path,
                                   const OnnxExportOptions& options = {});

}  // namespace qseg

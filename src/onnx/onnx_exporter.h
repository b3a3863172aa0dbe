// The state of one export (onnx_export.h): each qseg tensor's ONNX values (in the .tflite's layout
// and in NCHW, made on demand), their 8-bit grids, and the helpers every op mapping uses.
// onnx_export.cc holds the values and the driver, onnx_ops.cc one function per op.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "onnx/onnx_builder.h"
#include "onnx/onnx_export.h"
#include "qseg/graph.h"
#include "qseg/status.h"

namespace qseg::onnx_export {

// An 8-bit tensor's grid as the ONNX file stores it: real = scale * (q - zero_point), with q of
// `element_type` (UINT8 for every activation, int8 ones shifted by 128; weights as the .tflite
// has them). Per-axis (several scales) for per-channel weights only.
struct Grid {
  int32_t element_type = 0;
  std::vector<float> scale;
  std::vector<int64_t> zero_point;
  int64_t axis = 0;

  bool per_axis() const { return scale.size() > 1; }
  bool operator==(const Grid& other) const = default;
};

enum class Layout { kNative, kNchw };

class Exporter {
 public:
  Exporter(const Graph& graph, const OnnxExportOptions& options, ::onnx::GraphProto* proto)
      : graph_(graph), options_(options), builder_(proto) {}

  // Declares the graph inputs (converted to the stored types), maps every op, then declares the
  // outputs in the .tflite's types and layout.
  Status run(::onnx::GraphProto* proto);

  const Graph& graph() const { return graph_; }
  const OnnxExportOptions& options() const { return options_; }
  GraphBuilder& builder() { return builder_; }
  const Tensor& tensor(int32_t index) const { return graph_.tensors[index]; }

  // Whether a tensor is 8-bit quantized (uint8 or int8 with a scale): its ops run in QDQ form.
  bool quantized(int32_t tensor) const;
  // The tensor's grid in the ONNX file (quantized tensors only).
  Grid grid(int32_t tensor) const;
  // The ONNX element type it is stored as (uint8 for int8 activations).
  int32_t stored_type(int32_t tensor) const;

  // The ONNX value holding the tensor in a layout (a Transpose made on first use; 4-D only for
  // NCHW). Constants become initializers in the .tflite's layout.
  std::string value(int32_t tensor, Layout layout);
  bool has_value(int32_t tensor, Layout layout) const;
  // The float value of a tensor: DequantizeLinear of value() for quantized ones.
  std::string real_value(int32_t tensor, Layout layout, const std::string& what);
  // Records the ONNX value an op produced for its output tensor.
  void set_value(int32_t tensor, Layout layout, const std::string& name);
  // A fresh name for the value that holds an op's output tensor in a layout (a graph output's
  // own name where that value is the output itself).
  std::string output_name(int32_t tensor, Layout layout);

  // The name an op's float result gets: the output's own name where nothing follows it (a float
  // output without activation), else a fresh one.
  std::string result_name(int32_t output, Activation activation, Layout layout);
  // What follows a float result: QuantizeLinear to the output's grid and, where the fused
  // activation clamps more than the 8-bit range does, a Clip of the quantized values; for float
  // outputs Relu or Clip. Records the output's value.
  void finish_output(int32_t output, const std::string& result, Activation activation,
                     Layout layout);

  // DequantizeLinear of a value on a grid (output named from out_base); QuantizeLinear of a real
  // value to a per-tensor grid (output named out_name exactly).
  std::string dequantize(const std::string& input, const Grid& grid, const std::string& out_base);
  std::string quantize(const std::string& real, const Grid& grid, const std::string& out_name);

  // The name every intermediate value of an op starts with (its first output's name).
  std::string op_base(const Op& op) const;

  // An error about op `index`, "op 12 (TILE): ...".
  Status op_error(int index, const std::string& message) const;

 private:
  struct Values {
    std::string native, nchw;
  };
  std::string tensor_base(int32_t tensor) const;
  std::string constant_initializer(int32_t tensor);

  const Graph& graph_;
  OnnxExportOptions options_;
  GraphBuilder builder_;
  std::vector<Values> values_;
  std::map<int32_t, std::string> reserved_;  // graph inputs' and outputs' names
};

// One op -> ONNX nodes (onnx_ops.cc); the op's inputs already have values.
Status map_op(Exporter& exporter, int index);
// CONV_2D and DEPTHWISE_CONV_2D (onnx_conv.cc).
Status map_conv(Exporter& exporter, int index, bool depthwise);

// pads = [top, left, bottom, right] of a 2-D window over NHWC `in` making `out` (TensorFlow's
// SAME, or none for VALID); an error when ONNX would compute another output shape from them.
Status window_pads(const Exporter& e, int index, const std::vector<int32_t>& in,
                   const std::vector<int32_t>& out, Padding padding, int32_t kernel_h,
                   int32_t kernel_w, int32_t stride_h, int32_t stride_w, int32_t dilation_h,
                   int32_t dilation_w, std::vector<int64_t>* pads);
// An error unless each tensor (kNoTensor skipped) is 8-bit quantized or float32.
Status check_float_or_quantized(const Exporter& e, int index, const std::vector<int32_t>& tensors);

}  // namespace qseg::onnx_export

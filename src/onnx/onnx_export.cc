// qseg Graph -> ONNX ModelProto (onnx_export.h): the tensors' values and layouts, the graph's
// inputs and outputs, the model's metadata, the checker and the file.
#include "onnx/onnx_export.h"

#include <onnx/checker.h>

#include <algorithm>
#include <exception>
#include <stdexcept>

#include "graph/validate.h"
#include "io/durable_write.h"
#include "onnx/onnx_exporter.h"
#include "quant/quant.h"

namespace qseg {
namespace onnx_export {
namespace {

constexpr int64_t kIrVersion = 7;  // the IR of opset 13 (ONNX 1.8)

// The NHWC <-> NCHW permutations, and where a native (NHWC) axis lands in NCHW.
const std::vector<int64_t> kToNchw = {0, 3, 1, 2};
const std::vector<int64_t> kToNhwc = {0, 2, 3, 1};
constexpr int64_t kNchwAxisOf[4] = {0, 2, 3, 1};

bool is_8bit(DataType type) { return type == DataType::kUInt8 || type == DataType::kInt8; }

}  // namespace

bool Exporter::quantized(int32_t t) const {
  const Tensor& x = tensor(t);
  return is_8bit(x.type) && !x.quant.empty();
}

int32_t Exporter::stored_type(int32_t t) const {
  const Tensor& x = tensor(t);
  if (x.type == DataType::kInt8 && quantized(t) && !x.is_constant)
    return ::onnx::TensorProto::UINT8;
  return onnx_element_type(x.type);
}

Grid Exporter::grid(int32_t t) const {
  const Tensor& x = tensor(t);
  Grid g;
  g.element_type = stored_type(t);
  g.scale = x.quant.scale;
  g.zero_point = x.quant.zero_point;
  g.axis = x.quant.quantized_dimension;
  // int8 activations as uint8: q + 128 on zero point + 128 is the same real, rounded the same.
  if (x.type == DataType::kInt8 && g.element_type == ::onnx::TensorProto::UINT8)
    for (int64_t& z : g.zero_point) z += 128;
  return g;
}

std::string Exporter::tensor_base(int32_t t) const {
  const std::string& name = tensor(t).name;
  return name.empty() ? std::string("t").append(std::to_string(t)) : name;
}

std::string Exporter::op_base(const Op& op) const { return tensor_base(op.outputs[0]); }

Status Exporter::op_error(int index, const std::string& message) const {
  return Status::error("op " + std::to_string(index) + " (" + op_name(graph_.ops[index]) +
                       "): " + message);
}

std::string Exporter::constant_initializer(int32_t t) {
  const Tensor& x = tensor(t);
  std::vector<int64_t> dims(x.shape.begin(), x.shape.end());
  return builder_.initializer(tensor_base(t), onnx_element_type(x.type), dims, x.data);
}

std::string Exporter::output_name(int32_t t, Layout layout) {
  const bool graph_output =
      std::find(graph_.outputs.begin(), graph_.outputs.end(), t) != graph_.outputs.end();
  if (graph_output && layout == Layout::kNative &&
      stored_type(t) == onnx_element_type(tensor(t).type))
    return reserved_[t];
  return builder_.unique_name(tensor_base(t) + (layout == Layout::kNchw ? "_nchw" : ""));
}

bool Exporter::has_value(int32_t t, Layout layout) const {
  const Values& v = values_[t];
  return !(layout == Layout::kNative ? v.native : v.nchw).empty();
}

std::string Exporter::value(int32_t t, Layout layout) {
  Values& v = values_[t];
  if (tensor(t).is_constant && v.native.empty()) v.native = constant_initializer(t);
  if (layout == Layout::kNative) {
    if (v.native.empty()) {
      const std::string name = output_name(t, Layout::kNative);
      GraphBuilder::attribute(builder_.node("Transpose", {v.nchw}, name), "perm", kToNhwc);
      v.native = name;
    }
    return v.native;
  }
  if (v.nchw.empty()) {
    const std::string name = output_name(t, Layout::kNchw);
    GraphBuilder::attribute(builder_.node("Transpose", {v.native}, name), "perm", kToNchw);
    v.nchw = name;
  }
  return v.nchw;
}

void Exporter::set_value(int32_t t, Layout layout, const std::string& name) {
  (layout == Layout::kNative ? values_[t].native : values_[t].nchw) = name;
}

std::string Exporter::real_value(int32_t t, Layout layout, const std::string& what) {
  const std::string stored = value(t, layout);
  if (!quantized(t)) return stored;
  Grid g = grid(t);
  if (g.per_axis() && layout == Layout::kNchw && g.axis >= 0 && g.axis < 4)
    g.axis = kNchwAxisOf[g.axis];
  return dequantize(stored, g, what);
}

std::string Exporter::dequantize(const std::string& input, const Grid& grid,
                                 const std::string& out_base) {
  const std::string scale = grid.per_axis()
                                ? builder_.floats(out_base + "/scale", grid.scale)
                                : builder_.float_scalar(out_base + "/scale", grid.scale[0]);
  const std::string zero = builder_.zero_points(out_base + "/zero_point", grid.element_type,
                                                grid.zero_point, grid.per_axis());
  ::onnx::NodeProto* n =
      builder_.node("DequantizeLinear", {input, scale, zero}, builder_.unique_name(out_base));
  if (grid.per_axis()) GraphBuilder::attribute(n, "axis", grid.axis);
  return n->output(0);
}

std::string Exporter::quantize(const std::string& real, const Grid& grid,
                               const std::string& out_name) {
  const std::string scale = builder_.float_scalar(out_name + "/scale", grid.scale[0]);
  const std::string zero =
      builder_.zero_points(out_name + "/zero_point", grid.element_type, grid.zero_point, false);
  return builder_.node("QuantizeLinear", {real, scale, zero}, out_name)->output(0);
}

std::string Exporter::result_name(int32_t output, Activation activation, Layout layout) {
  if (!quantized(output) && activation == Activation::kNone) return output_name(output, layout);
  return builder_.unique_name(tensor_base(output) + "/real");
}

void Exporter::finish_output(int32_t output, const std::string& result, Activation activation,
                             Layout layout) {
  if (!quantized(output)) {
    std::string name = result;
    if (activation == Activation::kRelu) {
      name = builder_.node("Relu", {result}, output_name(output, layout))->output(0);
    } else if (activation != Activation::kNone) {
      const quant::FloatRange r = quant::activation_range_float(activation);
      const std::string lo = builder_.float_scalar(tensor_base(output) + "/min", r.min);
      const std::string hi = builder_.float_scalar(tensor_base(output) + "/max", r.max);
      name = builder_.node("Clip", {result, lo, hi}, output_name(output, layout))->output(0);
    }
    set_value(output, layout, name);
    return;
  }
  const Grid g = grid(output);
  const int32_t qmin = g.element_type == ::onnx::TensorProto::UINT8 ? 0 : -128;
  const int32_t qmax = g.element_type == ::onnx::TensorProto::UINT8 ? 255 : 127;
  // The clamp TFLite applies after requantizing, in quantized values; only where it is narrower
  // than the 8-bit range, which the QuantizeLinear saturates to anyway.
  const quant::QuantizedRange range = quant::activation_range(
      activation, g.scale[0], static_cast<int32_t>(g.zero_point[0]), qmin, qmax);
  const bool clamps = range.min > qmin || range.max < qmax;
  const std::string q = quantize(result, g,
                                 clamps ? builder_.unique_name(tensor_base(output) + "/quantized")
                                        : output_name(output, layout));
  std::string name = q;
  if (clamps) {
    const std::string base = tensor_base(output);
    const std::string lo =
        builder_.zero_points(base + "/clamp_min", g.element_type, {range.min}, false);
    const std::string hi =
        builder_.zero_points(base + "/clamp_max", g.element_type, {range.max}, false);
    name = builder_.node("Clip", {q, lo, hi}, output_name(output, layout))->output(0);
  }
  set_value(output, layout, name);
}

Status Exporter::run(::onnx::GraphProto* proto) {
  values_.assign(graph_.tensors.size(), {});
  // The graph's inputs and outputs keep the .tflite's names (made unique first).
  for (int32_t t : graph_.inputs) reserved_[t] = builder_.unique_name(tensor_base(t));
  for (int32_t t : graph_.outputs)
    if (!reserved_.count(t)) reserved_[t] = builder_.unique_name(tensor_base(t));
  for (int32_t t : graph_.inputs) {
    const Tensor& x = tensor(t);
    if (onnx_element_type(x.type) == ::onnx::TensorProto::UNDEFINED)
      return Status::error("input '" + x.name + "' has a type ONNX export does not map");
    GraphBuilder::describe_value(proto->add_input(), reserved_[t], onnx_element_type(x.type),
                                 x.shape);
    std::string stored = reserved_[t];
    if (stored_type(t) != onnx_element_type(x.type)) {  // an int8 input, stored as uint8
      Grid as_file = grid(t);
      as_file.element_type = onnx_element_type(x.type);
      as_file.zero_point = x.quant.zero_point;
      const std::string real = dequantize(stored, as_file, tensor_base(t) + "/real");
      stored = quantize(real, grid(t), builder_.unique_name(tensor_base(t) + "/uint8"));
    }
    set_value(t, Layout::kNative, stored);
  }
  for (int i = 0; i < static_cast<int>(graph_.ops.size()); ++i)
    QSEG_RETURN_IF_ERROR(map_op(*this, i));
  for (int32_t t : graph_.outputs) {
    const Tensor& x = tensor(t);
    if (onnx_element_type(x.type) == ::onnx::TensorProto::UNDEFINED)
      return Status::error("output '" + x.name + "' has a type ONNX export does not map");
    std::string name = value(t, Layout::kNative);
    if (stored_type(t) != onnx_element_type(x.type)) {  // an int8 output, stored as uint8
      Grid as_file = grid(t);
      as_file.element_type = onnx_element_type(x.type);
      as_file.zero_point = x.quant.zero_point;
      const std::string real = dequantize(name, grid(t), tensor_base(t) + "/real");
      name = quantize(real, as_file, reserved_[t]);
    }
    if (name != reserved_[t])  // an input that is also an output, or an output listed twice
      name = builder_.node("Identity", {name}, builder_.unique_name(reserved_[t]))->output(0);
    GraphBuilder::describe_value(proto->add_output(), name, onnx_element_type(x.type), x.shape);
  }
  return Status::ok();
}

}  // namespace onnx_export

Result<OnnxExport> export_onnx(const Graph& graph, const std::string& name,
                               const OnnxExportOptions& options) {
  QSEG_RETURN_IF_ERROR(validate_graph(graph).with_context(name));
  ::onnx::ModelProto model;
  model.set_ir_version(onnx_export::kIrVersion);
  model.set_producer_name("qseg");
  model.set_doc_string(graph.description);
  ::onnx::OperatorSetIdProto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOnnxOpset);
  if (!graph.class_labels.empty()) {
    ::onnx::StringStringEntryProto* labels = model.add_metadata_props();
    labels->set_key(std::string(kClassLabelsMetadataName));
    labels->set_value(graph.class_labels);
  }
  ::onnx::GraphProto* proto = model.mutable_graph();
  proto->set_name("qseg");
  onnx_export::Exporter exporter(graph, options, proto);
  QSEG_RETURN_IF_ERROR(exporter.run(proto).with_context(name));
  try {
    ::onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    std::string what = e.what();
    what.erase(std::find(what.begin(), what.end(), '\n'), what.end());
    return Status::error(name + ": the ONNX model fails onnx::checker: " + what);
  }
  OnnxExport out;
  if (!model.SerializeToString(&out.bytes))
    return Status::error(name + ": the ONNX model does not serialize (above 2 GiB?)");
  for (const ::onnx::NodeProto& n : proto->node()) ++out.op_counts[n.op_type()];
  out.nodes = proto->node_size();
  out.initializers = proto->initializer_size();
  return out;
}

Result<OnnxExport> write_onnx_file(const Graph& graph, const std::string& name,
                                   const std::filesystem::path& path,
                                   const OnnxExportOptions& options) {
  QSEG_ASSIGN_OR_RETURN(OnnxExport out, export_onnx(graph, name, options));
  QSEG_RETURN_IF_ERROR(io::write_file_durably(
      path, reinterpret_cast<const uint8_t*>(out.bytes.data()), out.bytes.size()));
  return out;
}

}  // namespace qseg

// Building an ONNX GraphProto node by node: unique names, typed initializers, attributes. Internal
// to src/onnx, the only code that includes ONNX's protobuf header.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <map>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "qseg/graph.h"
#include "qseg/status.h"

namespace qseg::onnx_export {

// ONNX's TensorProto element type of a qseg type; 0 (UNDEFINED) for none.
int32_t onnx_element_type(DataType type);

class GraphBuilder {
 public:
  explicit GraphBuilder(::onnx::GraphProto* graph) : graph_(graph) {}

  // `base` if no value, node or initializer has that name yet, else base_2, base_3, ...
  std::string unique_name(const std::string& base);

  // Initializers (raw little-endian data); each returns its unique name.
  std::string initializer(const std::string& base, int32_t element_type,
                          const std::vector<int64_t>& dims, std::span<const uint8_t> data);
  // The small constants below (scales, zero points, sizes) are made once per value: a second
  // request of the same type, shape and bytes returns the first one's name.
  std::string float_scalar(const std::string& base, float value);
  std::string floats(const std::string& base, const std::vector<float>& values);
  // A zero point: a scalar, or a vector with `per_axis`, of uint8 / int8 / int32.
  std::string zero_points(const std::string& base, int32_t element_type,
                          const std::vector<int64_t>& values, bool per_axis);
  std::string int64s(const std::string& base, const std::vector<int64_t>& values);

  // A node of the default domain with one output, `output` (a name from unique_name); returns
  // the node (for attributes).
  ::onnx::NodeProto* node(const std::string& op_type, const std::vector<std::string>& inputs,
                          const std::string& output);

  static void attribute(::onnx::NodeProto* node, const std::string& name, int64_t value);
  static void attribute(::onnx::NodeProto* node, const std::string& name, float value);
  static void attribute(::onnx::NodeProto* node, const std::string& name, const std::string& value);
  static void attribute(::onnx::NodeProto* node, const std::string& name,
                        const std::vector<int64_t>& values);

  // A graph input or output: its name, element type and shape.
  static void describe_value(::onnx::ValueInfoProto* value, const std::string& name,
                             int32_t element_type, const std::vector<int32_t>& shape);

  int nodes() const { return graph_->node_size(); }

 private:
  std::string shared_initializer(const std::string& base, int32_t element_type,
                                 const std::vector<int64_t>& dims, std::span<const uint8_t> data);

  ::onnx::GraphProto* graph_;
  std::set<std::string> names_;
  std::map<std::string, std::string> shared_;  // type, dims and bytes -> initializer name
  int node_counter_ = 0;
};

}  // namespace qseg::onnx_export

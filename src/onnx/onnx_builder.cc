// GraphBuilder (onnx_builder.h): names, initializers and attributes of an ONNX GraphProto.
#include "onnx/onnx_builder.h"

#include <cstring>

namespace qseg::onnx_export {
namespace {

template <typename T>
std::vector<uint8_t> little_endian_bytes(const std::vector<T>& values) {
  // x86-64 and aarch64 are little-endian, as ONNX's raw_data is.
  std::vector<uint8_t> bytes(values.size() * sizeof(T));
  if (!values.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

}  // namespace

int32_t onnx_element_type(DataType type) {
  switch (type) {
    case DataType::kFloat32:
      return ::onnx::TensorProto::FLOAT;
    case DataType::kUInt8:
      return ::onnx::TensorProto::UINT8;
    case DataType::kInt8:
      return ::onnx::TensorProto::INT8;
    case DataType::kInt16:
      return ::onnx::TensorProto::INT16;
    case DataType::kInt32:
      return ::onnx::TensorProto::INT32;
    case DataType::kInt64:
      return ::onnx::TensorProto::INT64;
    case DataType::kBool:
      return ::onnx::TensorProto::BOOL;
  }
  return ::onnx::TensorProto::UNDEFINED;
}

std::string GraphBuilder::unique_name(const std::string& base) {
  std::string stem = base.empty() ? std::string("value") : base;
  if (names_.insert(stem).second) return stem;
  for (int k = 2;; ++k) {
    std::string candidate = stem + "_" + std::to_string(k);
    if (names_.insert(candidate).second) return candidate;
  }
}

std::string GraphBuilder::initializer(const std::string& base, int32_t element_type,
                                      const std::vector<int64_t>& dims,
                                      std::span<const uint8_t> data) {
  ::onnx::TensorProto* t = graph_->add_initializer();
  std::string name = unique_name(base);
  t->set_name(name);
  t->set_data_type(element_type);
  for (int64_t d : dims) t->add_dims(d);
  t->set_raw_data(data.data(), data.size());
  return name;
}

std::string GraphBuilder::shared_initializer(const std::string& base, int32_t element_type,
                                             const std::vector<int64_t>& dims,
                                             std::span<const uint8_t> data) {
  std::string key = std::to_string(element_type) + ":";
  for (int64_t d : dims) key += std::to_string(d) + ",";
  key += ":";
  key.append(reinterpret_cast<const char*>(data.data()), data.size());
  const auto found = shared_.find(key);
  if (found != shared_.end()) return found->second;
  std::string name = initializer(base, element_type, dims, data);
  shared_.emplace(std::move(key), name);
  return name;
}

std::string GraphBuilder::float_scalar(const std::string& base, float value) {
  return shared_initializer(base, ::onnx::TensorProto::FLOAT, {},
                            little_endian_bytes(std::vector<float>{value}));
}

std::string GraphBuilder::floats(const std::string& base, const std::vector<float>& values) {
  return shared_initializer(base, ::onnx::TensorProto::FLOAT, {static_cast<int64_t>(values.size())},
                            little_endian_bytes(values));
}

std::string GraphBuilder::zero_points(const std::string& base, int32_t element_type,
                                      const std::vector<int64_t>& values, bool per_axis) {
  std::vector<uint8_t> bytes;
  for (int64_t v : values) {
    if (element_type == ::onnx::TensorProto::INT32) {
      const auto x = static_cast<int32_t>(v);
      const auto* p = reinterpret_cast<const uint8_t*>(&x);
      bytes.insert(bytes.end(), p, p + 4);
    } else {  // uint8 and int8: the low byte (int8 in two's complement)
      bytes.push_back(static_cast<uint8_t>(v & 0xFF));
    }
  }
  std::vector<int64_t> dims;
  if (per_axis) dims.push_back(static_cast<int64_t>(values.size()));
  return shared_initializer(base, element_type, dims, bytes);
}

std::string GraphBuilder::int64s(const std::string& base, const std::vector<int64_t>& values) {
  return shared_initializer(base, ::onnx::TensorProto::INT64, {static_cast<int64_t>(values.size())},
                            little_endian_bytes(values));
}

::onnx::NodeProto* GraphBuilder::node(const std::string& op_type,
                                      const std::vector<std::string>& inputs,
                                      const std::string& output) {
  ::onnx::NodeProto* n = graph_->add_node();
  n->set_op_type(op_type);
  n->set_name(op_type + "_" + std::to_string(node_counter_++));
  for (const std::string& input : inputs) n->add_input(input);
  n->add_output(output);
  return n;
}

void GraphBuilder::attribute(::onnx::NodeProto* node, const std::string& name, int64_t value) {
  ::onnx::AttributeProto* a = node->add_attribute();
  a->set_name(name);
  a->set_type(::onnx::AttributeProto::INT);
  a->set_i(value);
}

void GraphBuilder::attribute(::onnx::NodeProto* node, const std::string& name, float value) {
  ::onnx::AttributeProto* a = node->add_attribute();
  a->set_name(name);
  a->set_type(::onnx::AttributeProto::FLOAT);
  a->set_f(value);
}

void GraphBuilder::attribute(::onnx::NodeProto* node, const std::string& name,
                             const std::string& value) {
  ::onnx::AttributeProto* a = node->add_attribute();
  a->set_name(name);
  a->set_type(::onnx::AttributeProto::STRING);
  a->set_s(value);
}

void GraphBuilder::attribute(::onnx::NodeProto* node, const std::string& name,
                             const std::vector<int64_t>& values) {
  ::onnx::AttributeProto* a = node->add_attribute();
  a->set_name(name);
  a->set_type(::onnx::AttributeProto::INTS);
  for (int64_t v : values) a->add_ints(v);
}

void GraphBuilder::describe_value(::onnx::ValueInfoProto* value, const std::string& name,
                                  int32_t element_type, const std::vector<int32_t>& shape) {
  value->set_name(name);
  ::onnx::TypeProto_Tensor* tensor = value->mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(element_type);
  ::onnx::TensorShapeProto* dims = tensor->mutable_shape();
  for (int32_t d : shape) dims->add_dim()->set_dim_value(d);
}

}  // namespace qseg::onnx_export

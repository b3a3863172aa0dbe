// .tflite FlatBuffer -> Graph. The buffer is verified with the FlatBuffers Verifier, then every
// index, shape, type, quantization vector and buffer size is checked against the IR's rules.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <string>

#include "graph/validate.h"
#include "qseg/tflite.h"
#include "tflite/read_ops.h"
#include "tflite/schema_generated.h"

namespace qseg {
namespace {

using Offsets = flatbuffers::Vector<int32_t>;

// Element i of a FlatBuffers vector of int64 (quantization zero points). The Verifier checks
// that a vector's 4-byte length is aligned but not that 8-byte elements are, and Vector::Get
// loads them in place: from a crafted file that is a misaligned load (undefined behaviour), so
// the bytes are copied instead. FlatBuffers data is little-endian, like every target of qseg.
int64_t int64_element(const flatbuffers::Vector<int64_t>* vector, uint32_t i) {
  int64_t value;
  std::memcpy(&value, vector->Data() + static_cast<size_t>(i) * sizeof(int64_t), sizeof value);
  return value;
}

std::string tensor_label(int index, const ::tflite::Tensor* t) {
  std::string label = "tensor " + std::to_string(index);
  if (t && t->name()) label += " '" + t->name()->str() + "'";
  return label;
}

Result<Tensor> read_tensor(int index, const ::tflite::Tensor* t, const ::tflite::Model* model,
                           const ModelLimits& limits) {
  Tensor tensor;
  if (t->name()) tensor.name = t->name()->str();
  QSEG_ASSIGN_OR_RETURN(tensor.type, tflite_read::map_type(t->type()));
  if (t->is_variable()) return Status::error("variable tensors are not supported");
  if (t->shape()) {
    if (static_cast<int64_t>(t->shape()->size()) > limits.max_rank) {
      return Status::error("rank " + std::to_string(t->shape()->size()) + " exceeds the limit " +
                           std::to_string(limits.max_rank));
    }
    const int64_t max_elements =
        limits.max_tensor_bytes / static_cast<int64_t>(data_type_size(tensor.type));
    // The product of the dims with zeros counted as 1: a zero dim empties the tensor, but the
    // kernels still multiply the other dims (strides, outer and inner sizes), so they are bounded
    // as if the tensor held data.
    int64_t extent = 1;
    for (int32_t d : *t->shape()) {
      if (d < 0) return Status::error("negative dimension " + std::to_string(d) + " in shape");
      extent *= std::max(d, 1);  // cannot overflow: both factors are bounded by max_elements
      if (extent > max_elements) {
        return Status::error("shape holds more than " + std::to_string(limits.max_tensor_bytes) +
                             " bytes (zero dims counted as 1), above the tensor size limit");
      }
      tensor.shape.push_back(d);
    }
  }
  // Quantization: scale and zero_point vectors of equal length, 1 or the size of the quantized
  // dimension; finite positive scales; zero points within the type's range.
  if (const auto* q = t->quantization(); q && q->scale() && q->scale()->size() > 0) {
    if (q->details_type() != ::tflite::QuantizationDetails::NONE) {
      return Status::error("custom quantization is not supported");
    }
    const auto n = q->scale()->size();
    if (!q->zero_point() || q->zero_point()->size() != n) {
      return Status::error("quantization has " + std::to_string(n) + " scales but " +
                           std::to_string(q->zero_point() ? q->zero_point()->size() : 0) +
                           " zero points");
    }
    const int32_t dim = q->quantized_dimension();
    if (n > 1) {
      if (dim < 0 || dim >= static_cast<int32_t>(tensor.shape.size()) ||
          static_cast<int64_t>(n) != tensor.shape[dim]) {
        return Status::error("per-channel quantization with " + std::to_string(n) +
                             " scales does not match dimension " + std::to_string(dim) +
                             " of the shape");
      }
    }
    tensor.quant.quantized_dimension = dim;
    for (uint32_t i = 0; i < n; ++i) {
      const float s = q->scale()->Get(i);
      if (!(s > 0.0f) || !std::isfinite(s))
        return Status::error("quantization scale " + std::to_string(s) +
                             " is not a finite positive number");
      const int64_t zp = int64_element(q->zero_point(), i);
      if (zp < -32768 || zp > 65535)
        return Status::error("zero point " + std::to_string(zp) + " is out of range");
      tensor.quant.scale.push_back(s);
      tensor.quant.zero_point.push_back(zp);
    }
  }
  // A single [min, max] range, with or without a scale: TFLite ignores it when running, qseg's
  // frozen float graphs carry the ranges training tracked in it. Ranges per channel are not kept.
  if (const auto* q = t->quantization();
      q && q->min() && q->max() && q->min()->size() == 1 && q->max()->size() == 1) {
    const float lo = q->min()->Get(0);
    const float hi = q->max()->Get(0);
    if (!std::isfinite(lo) || !std::isfinite(hi) || lo > hi) {
      return Status::error("quantization range [" + std::to_string(lo) + ", " + std::to_string(hi) +
                           "] is not a finite range");
    }
    tensor.quant.min = {lo};
    tensor.quant.max = {hi};
  }
  // Constant data.
  const uint32_t buffer_index = t->buffer();
  const auto* buffers = model->buffers();
  const uint32_t buffer_count = buffers ? buffers->size() : 0;
  if (buffer_index != 0 || buffer_count > 0) {
    if (buffer_index >= buffer_count) {
      return Status::error("buffer index " + std::to_string(buffer_index) + " is out of range (" +
                           std::to_string(buffer_count) + " buffers)");
    }
    const auto* buffer = buffers->Get(buffer_index);
    if (buffer && (buffer->offset() != 0 || buffer->size() != 0)) {
      return Status::error("buffer " + std::to_string(buffer_index) +
                           " is stored outside the FlatBuffer, which qseg does not support");
    }
    if (buffer && buffer->data() && buffer->data()->size() > 0) {
      const int64_t expected = tensor.byte_size();
      if (static_cast<int64_t>(buffer->data()->size()) != expected) {
        return Status::error("buffer " + std::to_string(buffer_index) + " holds " +
                             std::to_string(buffer->data()->size()) + " bytes, the shape needs " +
                             std::to_string(expected));
      }
      tensor.data.assign(buffer->data()->begin(), buffer->data()->end());
      tensor.is_constant = true;
    }
  }
  (void)index;
  return tensor;
}

Status read_index_list(const Offsets* list, int32_t tensor_count, bool allow_absent,
                       std::vector<int32_t>* out, const char* what) {
  if (!list) return Status::ok();
  for (int32_t index : *list) {
    const bool absent = allow_absent && index == kNoTensor;
    if (!absent && (index < 0 || index >= tensor_count)) {
      return Status::error(std::string(what) + " tensor index " + std::to_string(index) +
                           " is out of range (" + std::to_string(tensor_count) + " tensors)");
    }
    out->push_back(index);
  }
  return Status::ok();
}

// The text of the kClassLabelsMetadataName entry, or "" when there is none.
Result<std::string> read_class_labels(const ::tflite::Model* model) {
  if (!model->metadata()) return std::string();
  for (const auto* entry : *model->metadata()) {
    if (!entry || !entry->name() || entry->name()->string_view() != kClassLabelsMetadataName)
      continue;
    const uint32_t index = entry->buffer();
    const uint32_t buffer_count = model->buffers() ? model->buffers()->size() : 0;
    const std::string what = "metadata " + std::string(kClassLabelsMetadataName);
    if (index >= buffer_count) {
      return Status::error(what + ": buffer " + std::to_string(index) + " is out of range (" +
                           std::to_string(buffer_count) + " buffers)");
    }
    const auto* buffer = model->buffers()->Get(index);
    if (!buffer || !buffer->data() || buffer->data()->size() == 0)
      return Status::error(what + ": buffer " + std::to_string(index) + " is empty");
    // A labels file of 256 classes is a few kilobytes; more is not a labels file.
    constexpr uint32_t kMaxBytes = 1 << 20;
    if (buffer->data()->size() > kMaxBytes) {
      return Status::error(what + ": " + std::to_string(buffer->data()->size()) +
                           " bytes exceed the limit of " + std::to_string(kMaxBytes));
    }
    return std::string(buffer->data()->begin(), buffer->data()->end());
  }
  return std::string();
}

Result<Graph> read_model(const ::tflite::Model* model, const ModelLimits& limits) {
  if (model->version() != 3) {
    return Status::error("schema version " + std::to_string(model->version()) +
                         " is not supported (expected 3)");
  }
  if (!model->subgraphs() || model->subgraphs()->size() == 0)
    return Status::error("the model has no subgraph");
  if (model->subgraphs()->size() > 1) {
    return Status::error("the model has " + std::to_string(model->subgraphs()->size()) +
                         " subgraphs; only single-subgraph models are supported");
  }
  const auto* sg = model->subgraphs()->Get(0);
  Graph graph;
  if (model->description()) graph.description = model->description()->str();
  QSEG_ASSIGN_OR_RETURN(graph.class_labels, read_class_labels(model));

  const auto* tensors = sg->tensors();
  const int64_t tensor_count = tensors ? tensors->size() : 0;
  if (tensor_count > limits.max_tensors) {
    return Status::error(std::to_string(tensor_count) + " tensors exceed the limit of " +
                         std::to_string(limits.max_tensors));
  }
  for (int i = 0; i < tensor_count; ++i) {
    const auto* t = tensors->Get(i);
    auto tensor = read_tensor(i, t, model, limits);
    if (!tensor.is_ok()) return tensor.status().with_context(tensor_label(i, t));
    graph.tensors.push_back(std::move(tensor).value());
  }
  const auto count = static_cast<int32_t>(tensor_count);
  QSEG_RETURN_IF_ERROR(read_index_list(sg->inputs(), count, false, &graph.inputs, "graph input"));
  QSEG_RETURN_IF_ERROR(
      read_index_list(sg->outputs(), count, false, &graph.outputs, "graph output"));
  if (graph.inputs.empty() || graph.outputs.empty())
    return Status::error("the model has no inputs or no outputs");

  const auto* ops = sg->operators();
  const int64_t op_count = ops ? ops->size() : 0;
  if (op_count > limits.max_ops) {
    return Status::error(std::to_string(op_count) + " ops exceed the limit of " +
                         std::to_string(limits.max_ops));
  }
  const auto* codes = model->operator_codes();
  const uint32_t code_count = codes ? codes->size() : 0;
  for (int i = 0; i < op_count; ++i) {
    const auto* fop = ops->Get(i);
    const std::string label = "op " + std::to_string(i);
    if (fop->opcode_index() >= code_count) {
      return Status::error(label + ": operator code index " + std::to_string(fop->opcode_index()) +
                           " is out of range (" + std::to_string(code_count) + " codes)");
    }
    const auto* oc = codes->Get(fop->opcode_index());
    // Old files store the code only in the byte field, new ones in both: the larger is right.
    const auto code = static_cast<::tflite::BuiltinOperator>(
        std::max<int32_t>(oc->deprecated_builtin_code(), static_cast<int32_t>(oc->builtin_code())));
    Op op;
    op.type = tflite_read::map_op_type(code);
    op.version = oc->version();
    // An op qseg cannot run keeps its code, inputs and outputs; its options are not read.
    if (op.type == OpType::kUnsupported) op.options = tflite_read::unsupported_options(code, oc);
    const std::string named = label + " (" + op_name(op) + ")";
    Status s = read_index_list(fop->inputs(), count, true, &op.inputs, "input");
    if (s.is_ok()) s = read_index_list(fop->outputs(), count, false, &op.outputs, "output");
    if (!s.is_ok()) return s.with_context(named);
    if (op.type != OpType::kUnsupported) {
      auto options = tflite_read::read_options(op.type, fop);
      if (!options.is_ok()) return options.status().with_context(named);
      op.options = std::move(options).value();
    }
    graph.ops.push_back(std::move(op));
  }
  QSEG_RETURN_IF_ERROR(validate_graph(graph));
  return graph;
}

}  // namespace

Result<Graph> read_tflite(std::span<const uint8_t> bytes, const std::string& name,
                          const ModelLimits& limits) {
  auto fail = [&](const std::string& message) { return Status::error(name + ": " + message); };
  if (bytes.empty()) return fail("empty file");
  if (static_cast<int64_t>(bytes.size()) > limits.max_file_bytes) {
    return fail("file of " + std::to_string(bytes.size()) +
                " bytes exceeds the model size limit of " + std::to_string(limits.max_file_bytes));
  }
  if (bytes.size() < 8)
    return fail("too short to be a TFLite model (" + std::to_string(bytes.size()) + " bytes)");
  if (!flatbuffers::BufferHasIdentifier(bytes.data(), ::tflite::ModelIdentifier())) {
    return fail("not a TFLite model (file identifier is not \"TFL3\")");
  }
  // FlatBuffers reads scalars in place and the Verifier checks their alignment relative to the
  // buffer's start only: a span that does not start 8-byte aligned (a slice of a larger buffer)
  // is read from an aligned copy.
  std::vector<uint64_t> aligned;
  if (reinterpret_cast<uintptr_t>(bytes.data()) % alignof(uint64_t) != 0) {
    aligned.resize((bytes.size() + sizeof(uint64_t) - 1) / sizeof(uint64_t));
    std::memcpy(aligned.data(), bytes.data(), bytes.size());
    bytes = {reinterpret_cast<const uint8_t*>(aligned.data()), bytes.size()};
  }
  flatbuffers::Verifier::Options options;
  options.max_depth = 64;
  options.max_tables = 10'000'000;
  flatbuffers::Verifier verifier(bytes.data(), bytes.size(), options);
  if (!::tflite::VerifyModelBuffer(verifier))
    return fail("corrupt TFLite model (FlatBuffer verification failed)");
  auto graph = read_model(::tflite::GetModel(bytes.data()), limits);
  if (!graph.is_ok()) return graph.status().with_context(name);
  return graph;
}

Result<Graph> read_tflite_file(const std::filesystem::path& path, const ModelLimits& limits) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return Status::error("cannot open " + path.string() + ": " + ec.message());
  if (static_cast<int64_t>(size) > limits.max_file_bytes) {
    return Status::error(path.string() + ": file of " + std::to_string(size) +
                         " bytes exceeds the model size limit of " +
                         std::to_string(limits.max_file_bytes));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::error("cannot open " + path.string());
  std::vector<uint8_t> bytes(size);
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size));
  if (!in) return Status::error("cannot read " + path.string());
  return read_tflite(bytes, path.string(), limits);
}

}  // namespace qseg

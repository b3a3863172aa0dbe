// One side of qseg diff (diff_side.h): a model run in qseg, the real TFLite or ONNX Runtime.
#include "diff_side.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace qseg::cli {

// The tensors a layer comparison reads: every op's outputs, in op order.
std::vector<int32_t> layer_tensors(const Graph& g) {
  std::vector<int32_t> tensors;
  std::set<int32_t> seen(g.inputs.begin(), g.inputs.end());
  for (const Op& op : g.ops)
    for (int32_t t : op.outputs)
      if (t >= 0 && seen.insert(t).second) tensors.push_back(t);
  return tensors;
}

// The float scores a model's final ArgMax reads (its output 0 made by ARG_MAX over the last axis of
// a float32 tensor), or -1: the labels of such a model are compared with the scores beside them,
// so that float rounding's near ties are told apart from real differences.
int32_t argmax_scores(const Graph& g) {
  if (g.outputs.empty()) return -1;
  for (const Op& op : g.ops) {
    if (op.type != OpType::kArgMax || op.outputs.empty() || op.outputs[0] != g.outputs[0] ||
        op.inputs.empty() || op.inputs[0] < 0)
      continue;
    const Tensor& scores = g.tensors[op.inputs[0]];
    const Tensor& labels = g.tensors[op.outputs[0]];
    const bool per_pixel =
        !scores.shape.empty() &&
        labels.num_elements() * std::max(1, scores.shape.back()) == scores.num_elements();
    if (scores.type == DataType::kFloat32 && per_pixel &&
        (labels.type == DataType::kInt64 || labels.type == DataType::kInt32))
      return op.inputs[0];
  }
  return -1;
}

std::string Side::label() const {
  if (args_.runtime == "tflite") return "real TFLite";
  if (args_.runtime == "onnxruntime") return "ONNX Runtime (qseg's ONNX export)";
  return fmt::format("qseg {} {}", requantization_name(args_.requantization),
                     kernel_isa_name(args_.kernels));
}

Result<std::vector<std::vector<uint8_t>>> Side::run(std::span<const uint8_t> input, Read read) {
  std::vector<int32_t> tensors = graph_.outputs;
  if (read == Read::kLayers) tensors = layer_tensors(graph_);
  if (read == Read::kScores) tensors = {argmax_scores(graph_)};
  const auto slot = static_cast<size_t>(read);
  if (args_.runtime == "tflite") {
    std::unique_ptr<TfliteOracle>& oracle = oracles_[slot];
    if (!oracle) {
      Graph g = graph_;
      g.outputs = tensors;
      QSEG_ASSIGN_OR_RETURN(oracle, TfliteOracle::start(g, dirs_.oracle));
    }
    return oracle->run(input);
  }
  if (args_.runtime == "onnxruntime") {
    std::unique_ptr<OnnxRuntimePeer>& peer = onnxruntime_[slot];
    if (!peer) {
      Graph g = graph_;
      g.outputs = tensors;
      QSEG_ASSIGN_OR_RETURN(peer,
                            OnnxRuntimePeer::start(g, args_.model, dirs_.onnxruntime, dirs_.onnx));
    }
    return peer->run(input);
  }
  std::unique_ptr<Interpreter>& interp = interpreters_[slot];
  if (!interp) {
    InterpreterOptions options;
    options.requantization = args_.requantization;
    options.kernel_isa = args_.kernels;
    options.fuse_inverted_residuals = args_.fuse_blocks && read == Read::kOutputs;
    options.preserve_all_tensors = read != Read::kOutputs;
    options.max_arena_bytes = max_arena_;
    auto created = Interpreter::create(graph_, options);
    if (!created.is_ok()) return created.status().with_context(args_.model);
    interp = std::move(created).value();
  }
  auto dst = interp->input_bytes(0);
  if (dst.size() != input.size())
    return Status::error(fmt::format("{}: the input holds {} bytes, the model needs {}",
                                     args_.model, input.size(), dst.size()));
  std::copy(input.begin(), input.end(), dst.begin());
  interp->invoke();
  std::vector<std::vector<uint8_t>> out;
  for (int32_t t : tensors) {
    const auto* p = static_cast<const uint8_t*>(interp->tensor_data(t));
    const auto n = static_cast<size_t>(interp->tensor(t).byte_size());
    out.emplace_back(p, p + (p ? n : 0));
  }
  return out;
}

}  // namespace qseg::cli

// Multiply-add and weight-size counts over the IR.
#include "qseg/analysis.h"

namespace qseg {

int64_t op_multiply_adds(const Graph& graph, int op_index) {
  const Op& op = graph.ops[op_index];
  if (op.type != OpType::kConv2d && op.type != OpType::kDepthwiseConv2d) return 0;
  if (op.inputs.size() < 2 || op.outputs.empty()) return 0;
  const Tensor& weights = graph.tensors[op.inputs[1]];
  const Tensor& output = graph.tensors[op.outputs[0]];
  if (weights.shape.size() != 4 || output.shape.size() != 4) return 0;
  const int64_t outputs = output.num_elements();
  const int64_t kernel = int64_t{weights.shape[1]} * weights.shape[2];
  if (op.type == OpType::kDepthwiseConv2d) return outputs * kernel;
  return outputs * kernel * weights.shape[3];
}

int64_t total_multiply_adds(const Graph& graph) {
  int64_t total = 0;
  for (size_t i = 0; i < graph.ops.size(); ++i)
    total += op_multiply_adds(graph, static_cast<int>(i));
  return total;
}

int64_t resize_multiply_adds(const Graph& graph) {
  int64_t total = 0;
  for (const Op& op : graph.ops) {
    if (op.type == OpType::kResizeBilinear && !op.outputs.empty())
      total += 2 * graph.tensors[op.outputs[0]].num_elements();
  }
  return total;
}

int64_t constant_bytes(const Graph& graph) {
  int64_t total = 0;
  for (const Tensor& t : graph.tensors)
    total += t.is_constant ? static_cast<int64_t>(t.data.size()) : 0;
  return total;
}

}  // namespace qseg

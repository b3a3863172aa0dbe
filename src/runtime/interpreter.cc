// Interpreter: kernel preparation, arena planning, and the op loop.
#include "qseg/interpreter.h"

#include <algorithm>

#include "kernels/kernel.h"
#include "runtime/memory_planner.h"
#include "runtime/thread_pool.h"

namespace qseg {

namespace {
constexpr int64_t kArenaAlignment = 64;  // a cache line; also enough for any SIMD load

std::vector<TensorLifetime> tensor_lifetimes(const Graph& graph) {
  const auto op_count = static_cast<int32_t>(graph.ops.size());
  std::vector<TensorLifetime> lifetimes(graph.tensors.size());
  std::vector<char> used(graph.tensors.size(), 0);
  for (size_t i = 0; i < graph.tensors.size(); ++i) {
    lifetimes[i].first_op = op_count;
    lifetimes[i].last_op = -1;
  }
  auto touch = [&](int32_t t, int32_t op) {
    if (t == kNoTensor || graph.tensors[t].is_constant) return;
    used[t] = 1;
    lifetimes[t].first_op = std::min(lifetimes[t].first_op, op);
    lifetimes[t].last_op = std::max(lifetimes[t].last_op, op);
  };
  for (int32_t t : graph.inputs) touch(t, 0);
  for (int32_t i = 0; i < op_count; ++i) {
    for (int32_t t : graph.ops[i].inputs) touch(t, i);
    for (int32_t t : graph.ops[i].outputs) touch(t, i);
  }
  for (int32_t t : graph.outputs) touch(t, op_count);
  for (size_t i = 0; i < graph.tensors.size(); ++i) {
    lifetimes[i].bytes = used[i] ? graph.tensors[i].byte_size() : 0;
  }
  return lifetimes;
}
}  // namespace

Interpreter::~Interpreter() = default;

Result<std::unique_ptr<Interpreter>> Interpreter::create(Graph graph,
                                                         const InterpreterOptions& options) {
  std::unique_ptr<Interpreter> interp(new Interpreter());
  interp->graph_ = std::move(graph);
  const Graph& g = interp->graph_;
  for (int32_t t : g.inputs) {
    if (g.tensors[t].shape.empty() && g.tensors[t].num_elements() != 1) {
      return Status::error("graph input " + std::to_string(t) + " has no shape");
    }
  }
  KernelOptions kernel_options;
  kernel_options.requantization = options.requantization;
  for (size_t i = 0; i < g.ops.size(); ++i) {
    QSEG_ASSIGN_OR_RETURN(auto kernel, create_kernel(g, static_cast<int>(i), kernel_options));
    interp->kernels_.push_back(std::move(kernel));
  }
  const auto lifetimes = tensor_lifetimes(g);
  const ArenaPlan plan = plan_arena(lifetimes, kArenaAlignment, !options.preserve_all_tensors);
  if (plan.arena_bytes > options.max_arena_bytes) {
    return Status::error("the model needs an arena of " + std::to_string(plan.arena_bytes) +
                         " bytes, above the limit of " + std::to_string(options.max_arena_bytes));
  }
  interp->arena_bytes_ = plan.arena_bytes;
  interp->arena_storage_.resize(static_cast<size_t>(plan.arena_bytes + kArenaAlignment));
  const auto base = reinterpret_cast<uintptr_t>(interp->arena_storage_.data());
  interp->arena_ =
      interp->arena_storage_.data() + (kArenaAlignment - base % kArenaAlignment) % kArenaAlignment;
  interp->data_.assign(g.tensors.size(), nullptr);
  for (size_t i = 0; i < g.tensors.size(); ++i) {
    const Tensor& t = g.tensors[i];
    if (t.is_constant) {
      interp->data_[i] = const_cast<uint8_t*>(t.data.data());
    } else if (plan.offsets[i] >= 0) {
      interp->data_[i] = interp->arena_ + plan.offsets[i];
    }
  }
  interp->pool_ = std::make_unique<ThreadPool>(std::max(1, options.num_threads));
  return interp;
}

void Interpreter::run_op(size_t index) {
  const KernelContext context{std::span<void* const>(data_.data(), data_.size()), pool_.get()};
  kernels_[index]->run(context);
}

std::span<uint8_t> Interpreter::input_bytes(int i) {
  const int32_t t = graph_.inputs[i];
  return {static_cast<uint8_t*>(data_[t]), static_cast<size_t>(graph_.tensors[t].byte_size())};
}

std::span<const uint8_t> Interpreter::output_bytes(int i) const {
  const int32_t t = graph_.outputs[i];
  return {static_cast<const uint8_t*>(data_[t]),
          static_cast<size_t>(graph_.tensors[t].byte_size())};
}

int Interpreter::num_threads() const { return pool_->num_threads(); }

}  // namespace qseg

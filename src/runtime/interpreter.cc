// Interpreter: kernel preparation (after the fusion pass), arena planning, and the op loop.
#include "qseg/interpreter.h"

#include <algorithm>
#include <string>

#include "graph/validate.h"
#include "kernels/kernel.h"
#include "runtime/fusion.h"
#include "runtime/memory_planner.h"
#include "runtime/thread_pool.h"

namespace qseg {

namespace {
constexpr int64_t kArenaAlignment = 64;  // a cache line; also enough for any SIMD load

// The second op of a fused pair: its work is done by the previous op's kernel.
class FusedIntoPrevious final : public Kernel {
 public:
  void run(const KernelContext&) const override {}
  std::string_view variant() const override { return "fused"; }
};

// Stands in for an op whose outputs hold no elements (a 0 in their shape): there is nothing to
// write, and a kernel would still walk the other dimensions, billions of steps for a crafted
// 1x3x3538947x0 pooling (found by fuzz_tflite).
class NothingToWrite final : public Kernel {
 public:
  void run(const KernelContext&) const override {}
  std::string_view variant() const override { return "empty"; }
};

bool writes_nothing(const Graph& graph, const Op& op) {
  for (int32_t t : op.outputs) {
    if (graph.tensors[t].num_elements() > 0) return false;
  }
  return true;
}

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

// The kernels of every op, fused runs first (their first op gets the kernel, the others a
// stand-in); `lifetimes` (tensor_lifetimes) learns what the fused kernels read, write and skip.
Result<std::vector<std::unique_ptr<Kernel>>> create_kernels(
    const Graph& g, const KernelOptions& options, std::vector<FusedRun> fused,
    std::vector<TensorLifetime>* lifetimes) {
  std::vector<std::unique_ptr<Kernel>> kernels(g.ops.size());
  for (FusedRun& run : fused) {
    const int32_t last = run.first + run.count - 1;
    // Only the last op's outputs are written; every op passed its prepare (fuse_ops).
    kernels[run.first] =
        writes_nothing(g, g.ops[last]) ? std::make_unique<NothingToWrite>() : std::move(run.kernel);
    for (int32_t j = run.first + 1; j <= last; ++j) {
      kernels[j] = std::make_unique<FusedIntoPrevious>();
    }
    for (int32_t j = run.first; j < last; ++j) (*lifetimes)[g.ops[j].outputs[0]].bytes = 0;
    // The fused kernel reads the first op's inputs while it writes the last op's outputs, all
    // during the first op.
    for (int32_t t : g.ops[run.first].inputs) {
      if (t != kNoTensor && !g.tensors[t].is_constant) {
        (*lifetimes)[t].last_op = std::max((*lifetimes)[t].last_op, last);
      }
    }
    for (int32_t t : g.ops[last].outputs) {
      (*lifetimes)[t].first_op = std::min((*lifetimes)[t].first_op, run.first);
    }
  }
  for (size_t i = 0; i < g.ops.size(); ++i) {
    if (kernels[i] != nullptr) continue;
    QSEG_ASSIGN_OR_RETURN(kernels[i], create_kernel(g, static_cast<int>(i), options));
    // Replaced after its prepare, so an op with empty outputs is still checked.
    if (writes_nothing(g, g.ops[i])) kernels[i] = std::make_unique<NothingToWrite>();
  }
  return kernels;
}

// The instruction set options ask for, resolved; an error when it cannot run here.
Result<KernelIsa> resolve_isa(KernelIsa isa) {
  if (isa == KernelIsa::kAuto) isa = best_kernel_isa();
  if (!kernel_isa_available(isa)) {
    return Status::error("kernels '" + std::string(kernel_isa_name(isa)) +
                         "' are not available: this CPU or this build lacks them (best here: " +
                         std::string(kernel_isa_name(best_kernel_isa())) + ")");
  }
  return isa;
}

}  // namespace

Interpreter::~Interpreter() = default;

Result<std::unique_ptr<Interpreter>> Interpreter::create(Graph graph,
                                                         const InterpreterOptions& options) {
  std::unique_ptr<Interpreter> interp(new Interpreter());
  interp->graph_ = std::move(graph);
  const Graph& g = interp->graph_;
  QSEG_RETURN_IF_ERROR(validate_graph(g));
  QSEG_RETURN_IF_ERROR(check_runnable(g));
  for (int32_t t : g.inputs) {
    if (g.tensors[t].shape.empty() && g.tensors[t].num_elements() != 1) {
      return Status::error("graph input " + std::to_string(t) + " has no shape");
    }
  }
  KernelOptions kernel_options;
  kernel_options.requantization = options.requantization;
  QSEG_ASSIGN_OR_RETURN(kernel_options.isa, resolve_isa(options.kernel_isa));
  interp->kernel_isa_ = kernel_options.isa;
  kernel_options.num_threads = std::max(1, options.num_threads);
  std::vector<FusedRun> fused;  // every tensor stays materialized with preserve_all_tensors
  if (!options.preserve_all_tensors) {
    fused = fuse_ops(g, kernel_options, options.fuse_inverted_residuals);
  }
  std::vector<TensorLifetime> lifetimes = tensor_lifetimes(g);
  QSEG_ASSIGN_OR_RETURN(interp->kernels_,
                        create_kernels(g, kernel_options, std::move(fused), &lifetimes));
  const ArenaPlan plan = plan_arena(lifetimes, kArenaAlignment, !options.preserve_all_tensors);
  if (plan.arena_bytes > options.max_arena_bytes) {
    return Status::error("the model needs an arena of " + std::to_string(plan.arena_bytes) +
                         " bytes, above the arena limit of " +
                         std::to_string(options.max_arena_bytes) + " bytes");
  }
  interp->bind_tensors(plan.arena_bytes, plan.offsets);
  interp->pool_ = std::make_unique<ThreadPool>(kernel_options.num_threads);
  return interp;
}

void Interpreter::bind_tensors(int64_t arena_bytes, const std::vector<int64_t>& offsets) {
  arena_bytes_ = arena_bytes;
  arena_storage_.resize(static_cast<size_t>(arena_bytes + kArenaAlignment));
  const auto base = reinterpret_cast<uintptr_t>(arena_storage_.data());
  arena_ = arena_storage_.data() + (kArenaAlignment - base % kArenaAlignment) % kArenaAlignment;
  data_.assign(graph_.tensors.size(), nullptr);
  for (size_t i = 0; i < graph_.tensors.size(); ++i) {
    const Tensor& t = graph_.tensors[i];
    if (t.is_constant) {
      data_[i] = const_cast<uint8_t*>(t.data.data());
    } else if (offsets[i] >= 0) {
      data_[i] = arena_ + offsets[i];
    }
  }
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

void Interpreter::parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn) {
  pool_->parallel_for(n, fn);
}

std::string_view Interpreter::kernel_variant(int index) const { return kernels_[index]->variant(); }

}  // namespace qseg

// Interpreter: kernel preparation, arena planning, and the op loop.
#include "qseg/interpreter.h"

#include <algorithm>
#include <string>

#include "graph/validate.h"
#include "kernels/kernel.h"
#include "kernels/opt/optimized.h"
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
}  // namespace

Interpreter::~Interpreter() = default;

Result<std::unique_ptr<Interpreter>> Interpreter::create(Graph graph,
                                                         const InterpreterOptions& options) {
  std::unique_ptr<Interpreter> interp(new Interpreter());
  interp->graph_ = std::move(graph);
  const Graph& g = interp->graph_;
  QSEG_RETURN_IF_ERROR(validate_graph(g));
  for (int32_t t : g.inputs) {
    if (g.tensors[t].shape.empty() && g.tensors[t].num_elements() != 1) {
      return Status::error("graph input " + std::to_string(t) + " has no shape");
    }
  }
  KernelOptions kernel_options;
  kernel_options.requantization = options.requantization;
  KernelIsa isa = options.kernel_isa;
  if (isa == KernelIsa::kAuto) isa = best_kernel_isa();
  if (!kernel_isa_available(isa)) {
    return Status::error("kernels '" + std::string(kernel_isa_name(isa)) +
                         "' are not available: this CPU or this build lacks them (best here: " +
                         std::string(kernel_isa_name(best_kernel_isa())) + ")");
  }
  kernel_options.isa = isa;
  interp->kernel_isa_ = isa;
  kernel_options.num_threads = std::max(1, options.num_threads);
  std::vector<int32_t> unmaterialized;  // tensors fused kernels never write
  struct FusedRun {
    size_t first = 0, count = 0;
  };
  std::vector<FusedRun> fused_runs;  // ops run by one kernel
  for (size_t i = 0; i < g.ops.size(); ++i) {
    if (isa != KernelIsa::kReference && !options.preserve_all_tensors) {
      size_t count = 3;
      std::unique_ptr<Kernel> fused = options.fuse_inverted_residuals
                                          ? kernels::opt::create_fused_inverted_residual(
                                                g, static_cast<int>(i), isa, kernel_options)
                                          : nullptr;
      if (fused == nullptr) {
        count = 2;
        fused = kernels::opt::create_fused_resize_arg_max(g, static_cast<int>(i), isa,
                                                          options.requantization);
      }
      if (fused != nullptr) {
        // Every op must still pass its own checks (the reference prepare: no second packing).
        KernelOptions check_options = kernel_options;
        check_options.isa = KernelIsa::kReference;
        for (size_t j = i; j < i + count; ++j) {
          const auto checked = create_kernel(g, static_cast<int>(j), check_options);
          if (!checked.is_ok()) return checked.status();
        }
        for (size_t j = i; j + 1 < i + count; ++j) unmaterialized.push_back(g.ops[j].outputs[0]);
        fused_runs.push_back({i, count});
        // Only the last op's outputs are written; all ops were checked above.
        if (writes_nothing(g, g.ops[i + count - 1])) fused = std::make_unique<NothingToWrite>();
        interp->kernels_.push_back(std::move(fused));
        for (size_t j = 1; j < count; ++j) {
          interp->kernels_.push_back(std::make_unique<FusedIntoPrevious>());
        }
        i += count - 1;
        continue;
      }
    }
    QSEG_ASSIGN_OR_RETURN(std::unique_ptr<Kernel> kernel,
                          create_kernel(g, static_cast<int>(i), kernel_options));
    // Replaced after its prepare, so an op with empty outputs is still checked.
    if (writes_nothing(g, g.ops[i])) kernel = std::make_unique<NothingToWrite>();
    interp->kernels_.push_back(std::move(kernel));
  }
  auto lifetimes = tensor_lifetimes(g);
  for (int32_t t : unmaterialized) lifetimes[t].bytes = 0;
  // A fused kernel reads the first op's inputs while it writes the last op's outputs, all
  // during the first op.
  for (const FusedRun& run : fused_runs) {
    const auto last = static_cast<int32_t>(run.first + run.count - 1);
    for (int32_t t : g.ops[run.first].inputs) {
      if (t != kNoTensor && !g.tensors[t].is_constant) {
        lifetimes[t].last_op = std::max(lifetimes[t].last_op, last);
      }
    }
    for (int32_t t : g.ops[run.first + run.count - 1].outputs) {
      lifetimes[t].first_op = std::min(lifetimes[t].first_op, static_cast<int32_t>(run.first));
    }
  }
  const ArenaPlan plan = plan_arena(lifetimes, kArenaAlignment, !options.preserve_all_tensors);
  if (plan.arena_bytes > options.max_arena_bytes) {
    return Status::error("the model needs an arena of " + std::to_string(plan.arena_bytes) +
                         " bytes, above the arena limit of " +
                         std::to_string(options.max_arena_bytes) + " bytes");
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

void Interpreter::parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn) {
  pool_->parallel_for(n, fn);
}

std::string_view Interpreter::kernel_variant(int index) const { return kernels_[index]->variant(); }

}  // namespace qseg

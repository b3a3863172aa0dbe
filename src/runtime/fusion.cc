// The fusion pass: tries the fused kernels of kernels/opt at each op, in the policy's order.
#include "runtime/fusion.h"

#include <utility>

#include "kernels/opt/optimized.h"

namespace qseg {

std::vector<FusedRun> fuse_ops(const Graph& graph, const KernelOptions& options,
                               bool fuse_inverted_residuals) {
  std::vector<FusedRun> runs;
  if (options.isa == KernelIsa::kReference || options.isa == KernelIsa::kAuto) return runs;
  const auto op_count = static_cast<int32_t>(graph.ops.size());
  for (int32_t i = 0; i < op_count; ++i) {
    FusedRun run{i, 3, nullptr};
    if (fuse_inverted_residuals) {
      run.kernel = kernels::opt::create_fused_inverted_residual(graph, i, options.isa, options);
    }
    if (run.kernel == nullptr) {
      run.count = 2;
      run.kernel =
          kernels::opt::create_fused_resize_arg_max(graph, i, options.isa, options.requantization);
    }
    if (run.kernel == nullptr) continue;
    i += run.count - 1;
    runs.push_back(std::move(run));
  }
  return runs;
}

}  // namespace qseg

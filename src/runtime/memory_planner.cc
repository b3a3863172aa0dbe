// Greedy-by-size arena planning (the scheme TFLite's GreedyMemoryPlanner also uses).
#include "runtime/memory_planner.h"

#include <algorithm>
#include <numeric>

namespace qseg {

namespace {
int64_t align_up(int64_t v, int64_t alignment) {
  return (v + alignment - 1) / alignment * alignment;
}
bool lifetimes_overlap(const TensorLifetime& a, const TensorLifetime& b) {
  return a.first_op <= b.last_op && b.first_op <= a.last_op;
}
}  // namespace

ArenaPlan plan_arena(const std::vector<TensorLifetime>& lifetimes, int64_t alignment, bool share) {
  ArenaPlan plan;
  plan.offsets.assign(lifetimes.size(), -1);
  std::vector<size_t> order(lifetimes.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return lifetimes[a].bytes > lifetimes[b].bytes; });

  struct Placed {
    int64_t begin, end;
    size_t index;
  };
  std::vector<Placed> placed;  // sorted by begin
  for (size_t index : order) {
    const auto& t = lifetimes[index];
    if (t.bytes <= 0) continue;
    const int64_t size = align_up(t.bytes, alignment);
    int64_t offset = 0;
    if (share) {
      // Walk the placed tensors in address order; take the first gap large enough among those
      // alive at the same time.
      for (const auto& p : placed) {
        if (!lifetimes_overlap(lifetimes[p.index], t)) continue;
        if (p.begin >= offset + size) break;
        offset = std::max(offset, p.end);
      }
    } else {
      offset = plan.arena_bytes;
    }
    plan.offsets[index] = offset;
    plan.arena_bytes = std::max(plan.arena_bytes, offset + size);
    const Placed entry{offset, offset + size, index};
    placed.insert(
        std::upper_bound(placed.begin(), placed.end(), entry,
                         [](const Placed& a, const Placed& b) { return a.begin < b.begin; }),
        entry);
  }
  return plan;
}

}  // namespace qseg

// Static arena planning: every activation tensor gets an offset in one arena, and tensors whose
// lifetimes overlap never overlap in memory.
#pragma once

#include <cstdint>
#include <vector>

namespace qseg {

struct TensorLifetime {
  int64_t bytes = 0;
  int32_t first_op = 0;  // the op that writes it (0 for graph inputs)
  int32_t last_op = 0;   // the last op that reads it (the op count for graph outputs)
};

struct ArenaPlan {
  std::vector<int64_t> offsets;  // per entry of the lifetimes given; -1 for zero-byte entries
  int64_t arena_bytes = 0;
};

// Greedy by size: the largest tensors are placed first, each at the lowest aligned offset that
// does not collide with an already placed tensor of overlapping lifetime. With share = false
// every tensor gets its own space (so all intermediates stay readable after a run).
ArenaPlan plan_arena(const std::vector<TensorLifetime>& lifetimes, int64_t alignment, bool share);

}  // namespace qseg

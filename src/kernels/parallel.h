// The parallel-for interface kernels split their work through; the runtime's thread pool
// implements it, so kernels depend on no runtime header.
#pragma once

#include <algorithm>
#include <cstdint>

namespace qseg {

class ParallelFor {
 public:
  virtual ~ParallelFor() = default;

  // How many chunks at most parallel_for runs at once (the calling thread included).
  virtual int num_threads() const = 0;

  // Splits [0, n) into at most num_threads() contiguous chunks and calls fn(begin, end) on each,
  // the caller taking the first; returns when all are done. Chunk boundaries depend only on n
  // and the thread count, so results are deterministic when chunks write disjoint outputs.
  // Not reentrant: one parallel_for at a time per instance. A single chunk runs inline.
  template <typename Fn>
  void parallel_for(int64_t n, const Fn& fn) {
    if (n <= 0) return;
    const int64_t chunks = std::min<int64_t>(n, num_threads());
    if (chunks == 1) {
      fn(int64_t{0}, n);
      return;
    }
    auto trampoline = [](const void* f, int64_t b, int64_t e) {
      (*static_cast<const Fn*>(f))(b, e);
    };
    run_chunks(n, chunks, trampoline, &fn);
  }

 protected:
  using ChunkFn = void (*)(const void*, int64_t, int64_t);
  // Runs fn(ctx, n * i / chunks, n * (i + 1) / chunks) for i in [0, chunks), 2 <= chunks <= n.
  virtual void run_chunks(int64_t n, int64_t chunks, ChunkFn fn, const void* ctx) = 0;
};

}  // namespace qseg

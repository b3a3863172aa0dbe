// Worker threads that watch a generation counter (spinning, then sleeping) and each take one
// fixed chunk of a job; the caller takes chunk 0 and spins until the others are done.
#include "runtime/thread_pool.h"

#include <algorithm>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace qseg {

namespace {

int64_t chunk_begin(int64_t n, int64_t chunks, int64_t i) { return n * i / chunks; }

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#else
  std::this_thread::yield();
#endif
}

// How many polls a worker spends waiting for the next job before it sleeps: long enough to
// bridge the gap between two ops of a model, short enough not to hold a core for long after.
constexpr int kSpinPolls = 4000;

}  // namespace

ThreadPool::ThreadPool(int num_threads) {
  const int workers = std::max(0, num_threads - 1);
  workers_.reserve(workers);
  for (int i = 0; i < workers; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  stopping_.store(true);
  { std::lock_guard<std::mutex> lock(mutex_); }
  work_ready_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::run_chunks(int64_t n, int64_t chunks, ChunkFn fn, const void* ctx) {
  job_fn_ = fn;
  job_ctx_ = ctx;
  job_n_ = n;
  job_chunks_ = chunks;
  pending_.store(static_cast<int>(workers_.size()));
  generation_.fetch_add(1);  // publishes the job (sequentially consistent)
  if (sleepers_.load() > 0) {
    // A worker about to sleep either sees the new generation in its wait predicate or is
    // already waiting when this lock is taken, so the notification cannot be lost.
    { std::lock_guard<std::mutex> lock(mutex_); }
    work_ready_.notify_all();
  }
  fn(ctx, chunk_begin(n, chunks, 0), chunk_begin(n, chunks, 1));
  for (int polls = 0; pending_.load(std::memory_order_acquire) != 0; ++polls) {
    if (polls < kSpinPolls) {
      cpu_relax();
    } else {
      std::this_thread::yield();
    }
  }
}

void ThreadPool::worker_loop(int worker_index) {
  uint64_t seen = 0;
  for (;;) {
    int polls = 0;
    while (generation_.load(std::memory_order_acquire) == seen && !stopping_.load()) {
      if (++polls < kSpinPolls) {
        cpu_relax();
        continue;
      }
      std::unique_lock<std::mutex> lock(mutex_);
      sleepers_.fetch_add(1);
      work_ready_.wait(lock, [&] { return stopping_.load() || generation_.load() != seen; });
      sleepers_.fetch_sub(1);
      break;
    }
    if (stopping_.load()) return;
    seen = generation_.load();
    const int64_t chunk = worker_index + 1;  // chunk 0 belongs to the caller
    const int64_t chunks = job_chunks_;
    if (chunk < chunks) {
      job_fn_(job_ctx_, chunk_begin(job_n_, chunks, chunk), chunk_begin(job_n_, chunks, chunk + 1));
    }
    pending_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

}  // namespace qseg

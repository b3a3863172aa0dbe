// Worker threads that wait on a generation counter and each take one fixed chunk of a job.
#include "runtime/thread_pool.h"

#include <algorithm>

namespace qseg {

namespace {
int64_t chunk_begin(int64_t n, int64_t chunks, int64_t i) { return n * i / chunks; }
}  // namespace

ThreadPool::ThreadPool(int num_threads) {
  const int workers = std::max(0, num_threads - 1);
  workers_.reserve(workers);
  for (int i = 0; i < workers; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  work_ready_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::run_chunks(int64_t n, int64_t chunks, ChunkFn fn, const void* ctx) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_fn_ = fn;
    job_ctx_ = ctx;
    job_n_ = n;
    job_chunks_ = chunks;
    pending_ = static_cast<int>(workers_.size());
    ++generation_;
  }
  work_ready_.notify_all();
  fn(ctx, chunk_begin(n, chunks, 0), chunk_begin(n, chunks, 1));
  std::unique_lock<std::mutex> lock(mutex_);
  work_done_.wait(lock, [this] { return pending_ == 0; });
}

void ThreadPool::worker_loop(int worker_index) {
  uint64_t seen = 0;
  for (;;) {
    ChunkFn fn = nullptr;
    const void* ctx = nullptr;
    int64_t n = 0, chunks = 0;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      work_ready_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_) return;
      seen = generation_;
      fn = job_fn_;
      ctx = job_ctx_;
      n = job_n_;
      chunks = job_chunks_;
    }
    const int64_t chunk = worker_index + 1;  // chunk 0 belongs to the caller
    if (chunk < chunks) fn(ctx, chunk_begin(n, chunks, chunk), chunk_begin(n, chunks, chunk + 1));
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (--pending_ == 0) work_done_.notify_one();
    }
  }
}

}  // namespace qseg

// A fixed pool of worker threads with a blocking parallel_for; no allocation per call. Workers
// spin briefly between jobs (a model runs dozens of short ops back to back, and waking a
// sleeping thread costs more than most of them) and then sleep on a condition variable.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "kernels/parallel.h"

namespace qseg {

class ThreadPool final : public ParallelFor {
 public:
  // num_threads counts the calling thread: 1 means no workers and everything runs inline.
  explicit ThreadPool(int num_threads);
  ~ThreadPool() override;
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const final { return static_cast<int>(workers_.size()) + 1; }

  // parallel_for (ParallelFor's) splits [0, n) into at most num_threads() chunks, the caller
  // taking the first.

 private:
  void run_chunks(int64_t n, int64_t chunks, ChunkFn fn, const void* ctx) final;
  void worker_loop(int worker_index);

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable work_ready_;
  std::atomic<uint64_t> generation_{0};  // incremented once per job
  std::atomic<int> pending_{0};          // workers still to finish the current job
  std::atomic<int> sleepers_{0};         // workers waiting on work_ready_
  std::atomic<bool> stopping_{false};
  // The current job, written before generation_ is incremented.
  ChunkFn job_fn_ = nullptr;
  const void* job_ctx_ = nullptr;
  int64_t job_n_ = 0;
  int64_t job_chunks_ = 0;
};

}  // namespace qseg

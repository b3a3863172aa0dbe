// The arena plan never lets two tensors that are alive at the same time overlap, and sharing
// makes the published models' arenas much smaller than the sum of their activations.
#include "runtime/memory_planner.h"

#include <gtest/gtest.h>

#include <atomic>
#include <random>

#include "qseg/interpreter.h"
#include "qseg/tflite.h"
#include "runtime/thread_pool.h"
#include "test_util.h"

namespace qseg {
namespace {

void expect_valid(const std::vector<TensorLifetime>& lifetimes, const ArenaPlan& plan,
                  int64_t alignment) {
  for (size_t i = 0; i < lifetimes.size(); ++i) {
    if (lifetimes[i].bytes == 0) continue;
    ASSERT_GE(plan.offsets[i], 0);
    EXPECT_EQ(plan.offsets[i] % alignment, 0);
    EXPECT_LE(plan.offsets[i] + lifetimes[i].bytes, plan.arena_bytes);
    for (size_t j = i + 1; j < lifetimes.size(); ++j) {
      if (lifetimes[j].bytes == 0) continue;
      const bool live_together = lifetimes[i].first_op <= lifetimes[j].last_op &&
                                 lifetimes[j].first_op <= lifetimes[i].last_op;
      const bool memory_overlaps = plan.offsets[i] < plan.offsets[j] + lifetimes[j].bytes &&
                                   plan.offsets[j] < plan.offsets[i] + lifetimes[i].bytes;
      EXPECT_FALSE(live_together && memory_overlaps) << "tensors " << i << " and " << j;
    }
  }
}

TEST(MemoryPlanner, RandomLifetimesNeverCollide) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<TensorLifetime> lifetimes(1 + rng() % 40);
    for (auto& t : lifetimes) {
      t.bytes = rng() % 5 == 0 ? 0 : 1 + rng() % 10000;
      t.first_op = static_cast<int32_t>(rng() % 30);
      t.last_op = t.first_op + static_cast<int32_t>(rng() % 8);
    }
    const auto plan = plan_arena(lifetimes, 64, true);
    expect_valid(lifetimes, plan, 64);
    // Never worse than giving every tensor its own space.
    EXPECT_LE(plan.arena_bytes, plan_arena(lifetimes, 64, false).arena_bytes);
  }
}

TEST(MemoryPlanner, ChainReusesMemory) {
  // a -> b -> c -> d, each 1000 bytes: two buffers suffice.
  std::vector<TensorLifetime> chain = {{1000, 0, 0}, {1000, 0, 1}, {1000, 1, 2}, {1000, 2, 3}};
  const auto plan = plan_arena(chain, 8, true);
  expect_valid(chain, plan, 8);
  EXPECT_EQ(plan.arena_bytes, 2000);
}

TEST(MemoryPlanner, PublishedModelArenaIsShared) {
  auto graph =
      read_tflite_file(test::shared_path("models/deeplabv3_mnv2_dm05_pascal_quant.tflite"));
  ASSERT_TRUE(graph.is_ok());
  int64_t all_activations = 0;
  for (const auto& t : graph->tensors) all_activations += t.is_constant ? 0 : t.byte_size();
  auto interp = Interpreter::create(std::move(graph).value());
  ASSERT_TRUE(interp.is_ok()) << interp.status().message();
  std::printf("dm0.5 arena: %lld bytes (all activations: %lld)\n",
              static_cast<long long>(interp.value()->arena_bytes()),
              static_cast<long long>(all_activations));
  EXPECT_LT(interp.value()->arena_bytes(), all_activations / 2);
  // The output (int64 513x513) and the input must both fit.
  EXPECT_GE(interp.value()->arena_bytes(), 513 * 513 * 8 + 513 * 513 * 3);
}

TEST(MemoryPlanner, ArenaLimitRefusesLargePlans) {
  auto graph =
      read_tflite_file(test::shared_path("models/deeplabv3_mnv2_dm05_pascal_quant.tflite"));
  ASSERT_TRUE(graph.is_ok());
  InterpreterOptions options;
  options.max_arena_bytes = 1 << 20;
  auto interp = Interpreter::create(std::move(graph).value(), options);
  ASSERT_FALSE(interp.is_ok());
  EXPECT_NE(interp.status().message().find("above the arena limit of 1048576"), std::string::npos);
}

TEST(ThreadPool, EveryIndexExactlyOnce) {
  for (int threads : {1, 2, 3, 8}) {
    ThreadPool pool(threads);
    for (int64_t n : {0, 1, 2, 5, 97, 1000}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      for (int repeat = 0; repeat < 3; ++repeat) {
        pool.parallel_for(n, [&](int64_t begin, int64_t end) {
          for (int64_t i = begin; i < end; ++i) hits[i].fetch_add(1);
        });
      }
      for (int64_t i = 0; i < n; ++i)
        EXPECT_EQ(hits[i].load(), 3) << threads << " threads, n=" << n;
    }
  }
}

}  // namespace
}  // namespace qseg

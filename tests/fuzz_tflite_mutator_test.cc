// fuzz_tflite's structure-aware mutator (fuzz/tflite_mutator.h) on the one-op seeds: its output
// must be models the reader accepts, different from the input, reproducible from the seed, and
// often enough still prepared by the interpreter, or it only adds slow byte mutations. Every
// mutated model also goes through the fuzz body, so each build (the sanitizer one included)
// replays a few thousand structured inputs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <vector>

#include "fuzz_bodies.h"
#include "op_seeds.h"
#include "qseg/interpreter.h"
#include "qseg/tflite.h"
#include "tflite_mutator.h"

namespace qseg {
namespace {

constexpr int kMutationsPerSeed = 400;
constexpr size_t kMaxSize = 4096;

TEST(FuzzTfliteMutator, WritesReadableChangedModelsThatOftenStillPrepare) {
  int written = 0, prepared = 0, tries = 0;
  for (const fuzz::NamedGraph& seed : fuzz::op_seed_graphs()) {
    SCOPED_TRACE(seed.name);
    Result<std::vector<uint8_t>> bytes = write_tflite(seed.graph);
    ASSERT_TRUE(bytes.is_ok()) << bytes.status().message();
    // Half of the steps continue from the previous mutation, as a fuzzer's corpus does, so
    // mutations pile up; the others start again from the seed.
    std::vector<uint8_t> base = bytes.value();
    size_t base_model_size = base.size();  // the model's bytes, without a selector byte
    for (uint32_t s = 1; s <= kMutationsPerSeed; ++s) {
      if (s % 2 == 1) {
        base = bytes.value();
        base_model_size = base.size();
      }
      ++tries;
      std::optional<std::vector<uint8_t>> mutated =
          fuzz::mutate_tflite(base, kMaxSize, s);
      if (!mutated) continue;
      ++written;
      ASSERT_LE(mutated->size(), kMaxSize);
      EXPECT_EQ(fuzz::mutate_tflite(base, kMaxSize, s), mutated) << "seed " << s;
      // The selector byte aside, the model changed: the writer is deterministic, so equal bytes
      // would mean an unchanged graph.
      const std::vector<uint8_t> model(mutated->begin(), mutated->end() - 1);
      EXPECT_FALSE(std::equal(model.begin(), model.end(), base.begin(),
                              base.begin() + static_cast<std::ptrdiff_t>(base_model_size)))
          << "seed " << s;
      Result<Graph> read = read_tflite(*mutated, seed.name);
      ASSERT_TRUE(read.is_ok()) << "seed " << s << ": " << read.status().message();
      Result<std::unique_ptr<Interpreter>> created =
          Interpreter::create(std::move(read).value(), InterpreterOptions{});
      if (created.is_ok()) ++prepared;
      fuzz::fuzz_tflite(*mutated);
      base = *mutated;
      base_model_size = model.size();
    }
  }
  // Measured: 14800 tried, 14176 written (96%), 2603 of those prepared (18%).
  EXPECT_GT(written, tries / 2);
  EXPECT_GT(prepared, written / 10);
  std::printf("mutations: %d tried, %d written, %d prepared\n", tries, written, prepared);
}

TEST(FuzzTfliteMutator, LeavesBytesThatAreNotAModelToByteMutations) {
  const std::vector<uint8_t> junk = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  EXPECT_FALSE(fuzz::mutate_tflite(junk, kMaxSize, 7).has_value());
  EXPECT_FALSE(fuzz::mutate_tflite({}, kMaxSize, 7).has_value());
  // A model that does not fit max_size after mutation is not returned either.
  Result<std::vector<uint8_t>> bytes = write_tflite(fuzz::op_seed_graphs().front().graph);
  ASSERT_TRUE(bytes.is_ok());
  EXPECT_FALSE(fuzz::mutate_tflite(bytes.value(), 16, 7).has_value());
}

}  // namespace
}  // namespace qseg

// Runs a .tflite model in the real TensorFlow Lite for tests: the WebAssembly build of TFLite (with
// its default XNNPACK delegate) from ../shared/tools/tflite-oracle, driven by Node. ctest installs
// it into BUILD/tflite-oracle (fixture test tflite_oracle_setup) before the tests that use it.
//
//   auto out = test::run_real_tflite(model_path, input_bytes);
//   ASSERT_TRUE(out.is_ok()) << out.status().message();   // never skip: a missing oracle fails
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

#include "qseg/status.h"

namespace qseg::test {

// $QSEG_TFLITE_ORACLE if set, else BUILD/tflite-oracle.
std::filesystem::path tflite_oracle_dir();

// Feeds input_bytes (the exact bytes of input 0) to the model, one thread, and returns the bytes
// of output 0 in the model's own type. The WebAssembly API cannot return int64 tensors, so the
// oracle runs an int64 ARG_MAX as int32 and widens the result back to int64 (its --as-int64; class
// ids fit either). Errors (Node or the oracle missing, TFLite rejecting the model) are one line
// that says how to fix them.
Result<std::vector<uint8_t>> run_real_tflite(
    const std::filesystem::path& model, std::span<const uint8_t> input_bytes,
    const std::filesystem::path& oracle_dir = tflite_oracle_dir());

// As run_real_tflite, for a model with `num_outputs` outputs: the bytes of each (one run of the
// oracle for all of them, so that one model can hold many independent cases).
Result<std::vector<std::vector<uint8_t>>> run_real_tflite_outputs(
    const std::filesystem::path& model, std::span<const uint8_t> input_bytes, int num_outputs,
    const std::filesystem::path& oracle_dir = tflite_oracle_dir());

}  // namespace qseg::test

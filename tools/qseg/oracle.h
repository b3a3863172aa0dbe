// The real TensorFlow Lite as a peer process (peer_process.h): tools/oracle/tflite_batch.js, run by
// Node, serves one model from the oracle's WebAssembly build (with its default XNNPACK delegate)
// over pipes, so that many inputs run in one process. qseg diff and scripts/conformance.sh
// compare qseg with it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "peer_process.h"
#include "qseg/graph.h"
#include "qseg/status.h"

namespace qseg::cli {

// Where the oracle is installed by default: tflite-oracle beside the qseg binary (ctest's
// tflite_oracle_setup installs it there for build/qseg).
std::filesystem::path default_oracle_dir();

// An error naming the folder and how to install the oracle there, unless it is installed.
Status check_oracle_installed(const std::filesystem::path& oracle_dir);

class TfliteOracle {
 public:
  // Starts the real TFLite on `graph`, written to a temporary .tflite by qseg's writer (which
  // round-trips the published models to files with bit-identical TFLite outputs). An int64
  // ARG_MAX output runs as int32 (the WebAssembly API cannot read int64 tensors) and is widened
  // back, so every output comes back in the graph's own type. Errors: the oracle or Node missing,
  // TFLite refusing the model.
  static Result<std::unique_ptr<TfliteOracle>> start(const Graph& graph,
                                                     const std::filesystem::path& oracle_dir);
  ~TfliteOracle();
  TfliteOracle(const TfliteOracle&) = delete;
  TfliteOracle& operator=(const TfliteOracle&) = delete;

  // Runs one input (the exact bytes of input 0) and returns the bytes of every graph output.
  Result<std::vector<std::vector<uint8_t>>> run(std::span<const uint8_t> input);

 private:
  TfliteOracle() = default;

  std::filesystem::path dir_;  // the temporary model and the child's stderr
  std::unique_ptr<PeerProcess> peer_;
  std::vector<bool> widen_;  // int32 -> int64
};

}  // namespace qseg::cli

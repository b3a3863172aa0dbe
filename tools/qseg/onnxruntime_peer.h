// ONNX Runtime as a peer process (peer_process.h): a Graph exported by qseg's ONNX writer
// (src/onnx, as `qseg export --onnx` writes it) and run by tools/onnx/ort_batch.js in
// onnxruntime-node (CPU provider, graph optimization level all, sequential execution). qseg diff
// --b onnxruntime and scripts/onnx_agreement.sh compare qseg with it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "onnx/onnx_export.h"
#include "peer_process.h"
#include "qseg/graph.h"
#include "qseg/status.h"

namespace qseg::cli {

// Where ONNX Runtime is installed by default: onnxruntime beside the qseg binary (ctest's
// onnxruntime_setup installs it there with tools/onnx/setup.sh).
std::filesystem::path default_onnxruntime_dir();

// An error naming the folder and how to install ONNX Runtime there, unless it is installed.
Status check_onnxruntime_installed(const std::filesystem::path& dir);

class OnnxRuntimePeer {
 public:
  // Exports `graph` with `options` to a temporary .onnx (errors name `name`, the model file) and
  // starts ONNX
  // Runtime on it with `threads` intra-op threads.
  static Result<std::unique_ptr<OnnxRuntimePeer>> start(const Graph& graph, const std::string& name,
                                                        const std::filesystem::path& ort_dir,
                                                        const OnnxExportOptions& options = {},
                                                        int threads = 1);
  ~OnnxRuntimePeer();
  OnnxRuntimePeer(const OnnxRuntimePeer&) = delete;
  OnnxRuntimePeer& operator=(const OnnxRuntimePeer&) = delete;

  // Runs one input (the exact bytes of input 0) and returns the bytes of every graph output.
  Result<std::vector<std::vector<uint8_t>>> run(std::span<const uint8_t> input) {
    return peer_->run(input);
  }

 private:
  OnnxRuntimePeer() = default;

  std::filesystem::path dir_;  // the temporary model and the child's stderr
  std::unique_ptr<PeerProcess> peer_;
};

}  // namespace qseg::cli

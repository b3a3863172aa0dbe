// The ONNX Runtime peer (onnxruntime_peer.h): qseg's ONNX export, run by `node ort_batch.js`.
#include "onnxruntime_peer.h"

#include <unistd.h>

#include <atomic>

#include "onnx/onnx_export.h"

namespace qseg::cli {
namespace {

// ort_batch.js: beside the binary (the build copies it there), else in the source tree.
std::filesystem::path batch_script() {
  const auto beside = self_dir() / "ort_batch.js";
  if (std::filesystem::exists(beside)) return beside;
  return std::filesystem::path(QSEG_SOURCE_DIR) / "tools/onnx/ort_batch.js";
}

}  // namespace

std::filesystem::path default_onnxruntime_dir() { return self_dir() / "onnxruntime"; }

Status check_onnxruntime_installed(const std::filesystem::path& dir) {
  if (std::filesystem::exists(dir / "node_modules/onnxruntime-node/package.json"))
    return Status::ok();
  return Status::error("no ONNX Runtime in " + dir.string() + " (install it: tools/onnx/setup.sh " +
                       dir.string() + ", or name another with --onnxruntime DIR)");
}

Result<std::unique_ptr<OnnxRuntimePeer>> OnnxRuntimePeer::start(
    const Graph& graph, const std::string& name, const std::filesystem::path& ort_dir,
    const OnnxExportOptions& options, int threads) {
  QSEG_RETURN_IF_ERROR(check_onnxruntime_installed(ort_dir));
  if (graph.inputs.size() != 1)
    return Status::error("the ONNX Runtime runner feeds models with one input");
  std::unique_ptr<OnnxRuntimePeer> peer(new OnnxRuntimePeer());
  static std::atomic<int> counter{0};
  peer->dir_ =
      std::filesystem::temp_directory_path() / ("qseg-onnxruntime-" + std::to_string(::getpid()) +
                                                "-" + std::to_string(counter.fetch_add(1)));
  std::error_code ec;
  std::filesystem::create_directories(peer->dir_, ec);
  if (ec) return Status::error("cannot create " + peer->dir_.string() + ": " + ec.message());
  const auto model_path = peer->dir_ / "model.onnx";
  QSEG_RETURN_IF_ERROR(write_onnx_file(graph, name, model_path, options).status());
  std::vector<size_t> output_bytes;
  for (int32_t out : graph.outputs)
    output_bytes.push_back(static_cast<size_t>(graph.tensors[out].byte_size()));
  QSEG_ASSIGN_OR_RETURN(peer->peer_, PeerProcess::start("ONNX Runtime", batch_script(),
                                                        {ort_dir.string(), model_path.string(),
                                                         "--threads", std::to_string(threads)},
                                                        peer->dir_ / "stderr.txt", output_bytes));
  return peer;
}

OnnxRuntimePeer::~OnnxRuntimePeer() {
  peer_.reset();  // the peer ends before its folder goes
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

}  // namespace qseg::cli

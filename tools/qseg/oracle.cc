// The real-TFLite peer (oracle.h): the model written for TFLite, run by `node tflite_batch.js`.
#include "oracle.h"

#include <unistd.h>

#include <atomic>
#include <cstring>

#include "qseg/tflite.h"

namespace qseg::cli {
namespace {

// tflite_batch.js: beside the binary (the build copies it there), else in the source tree.
std::filesystem::path batch_script() {
  const auto beside = self_dir() / "tflite_batch.js";
  if (std::filesystem::exists(beside)) return beside;
  return std::filesystem::path(QSEG_SOURCE_DIR) / "tools/oracle/tflite_batch.js";
}

}  // namespace

std::filesystem::path default_oracle_dir() { return self_dir() / "tflite-oracle"; }

Status check_oracle_installed(const std::filesystem::path& oracle_dir) {
  if (std::filesystem::exists(oracle_dir / "node_modules/@tensorflow/tfjs-tflite"))
    return Status::ok();
  return Status::error("no TFLite oracle in " + oracle_dir.string() +
                       " (install it: ../shared/tools/tflite-oracle/setup.sh " +
                       oracle_dir.string() + ", or name another with --oracle DIR)");
}

Result<std::unique_ptr<TfliteOracle>> TfliteOracle::start(const Graph& graph,
                                                          const std::filesystem::path& oracle_dir) {
  QSEG_RETURN_IF_ERROR(check_oracle_installed(oracle_dir));
  const std::filesystem::path script = batch_script();
  if (!std::filesystem::exists(script))
    return Status::error("the oracle runner " + script.string() + " is missing");
  if (graph.inputs.size() != 1)
    return Status::error("the real-TFLite runner feeds models with one input");

  std::unique_ptr<TfliteOracle> oracle(new TfliteOracle());
  static std::atomic<int> counter{0};
  oracle->dir_ =
      std::filesystem::temp_directory_path() /
      ("qseg-oracle-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1)));
  std::error_code ec;
  std::filesystem::create_directories(oracle->dir_, ec);
  if (ec) return Status::error("cannot create " + oracle->dir_.string() + ": " + ec.message());

  // The model as TFLite will read it: int64 ArgMax outputs made int32.
  Graph copy = graph;
  for (int32_t out : copy.outputs) {
    oracle->widen_.push_back(false);
    Tensor& t = copy.tensors[out];
    if (t.type != DataType::kInt64) continue;
    for (Op& op : copy.ops) {
      if (op.type == OpType::kArgMax && op.outputs.size() == 1 && op.outputs[0] == out) {
        std::get<ArgMaxOptions>(op.options).output_type = DataType::kInt32;
        t.type = DataType::kInt32;
        oracle->widen_.back() = true;
      }
    }
    if (!oracle->widen_.back())
      return Status::error("output '" + t.name +
                           "' is int64, which the real-TFLite runner cannot read");
  }
  const auto model_path = oracle->dir_ / "model.tflite";
  QSEG_RETURN_IF_ERROR(write_tflite_file(copy, model_path));
  std::vector<size_t> output_bytes;
  for (int32_t out : copy.outputs)
    output_bytes.push_back(static_cast<size_t>(copy.tensors[out].byte_size()));
  QSEG_ASSIGN_OR_RETURN(
      oracle->peer_,
      PeerProcess::start("the real TFLite", script, {oracle_dir.string(), model_path.string()},
                         oracle->dir_ / "stderr.txt", output_bytes));
  return oracle;
}

Result<std::vector<std::vector<uint8_t>>> TfliteOracle::run(std::span<const uint8_t> input) {
  QSEG_ASSIGN_OR_RETURN(std::vector<std::vector<uint8_t>> outputs, peer_->run(input));
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (!widen_[i]) continue;
    std::vector<uint8_t>& bytes = outputs[i];
    std::vector<uint8_t> wide(bytes.size() * 2);
    for (size_t k = 0; k < bytes.size() / 4; ++k) {
      int32_t v;
      std::memcpy(&v, bytes.data() + 4 * k, 4);
      const auto w = static_cast<int64_t>(v);
      std::memcpy(wide.data() + 8 * k, &w, 8);
    }
    bytes = std::move(wide);
  }
  return outputs;
}

TfliteOracle::~TfliteOracle() {
  peer_.reset();  // the peer ends before its folder goes
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

}  // namespace qseg::cli

// A peer process serving one model over pipes: a Node.js script (tools/oracle/tflite_batch.js for
// the real TFLite, tools/onnx/ort_batch.js for ONNX Runtime) that prints a JSON description of
// the model, then answers each input (a uint32 byte count and the bytes) with every output's byte
// count and bytes. oracle.h and onnxruntime_peer.h start their runners with it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "qseg/status.h"

namespace qseg::cli {

// The folder of the running binary (the build copies the runners there).
std::filesystem::path self_dir();

class PeerProcess {
 public:
  // Starts `node script args...` (stderr to log_file) and reads its description line. `label`
  // names the peer in errors ("the real TFLite"); output_bytes are the byte counts qseg expects
  // of each output, checked against the description (its "bytes", where it gives them) and every
  // reply.
  static Result<std::unique_ptr<PeerProcess>> start(const std::string& label,
                                                    const std::filesystem::path& script,
                                                    const std::vector<std::string>& args,
                                                    const std::filesystem::path& log_file,
                                                    const std::vector<size_t>& output_bytes);
  // Ends the peer (a zero-length request) and waits for it.
  ~PeerProcess();
  PeerProcess(const PeerProcess&) = delete;
  PeerProcess& operator=(const PeerProcess&) = delete;

  // Runs one input (the exact bytes of input 0) and returns the bytes of every output.
  Result<std::vector<std::vector<uint8_t>>> run(std::span<const uint8_t> input);

 private:
  PeerProcess() = default;
  Status failure(const std::string& what);

  std::string label_;
  std::filesystem::path log_file_;
  pid_t pid_ = -1;
  int to_child_ = -1, from_child_ = -1;
  std::vector<size_t> output_bytes_;
};

}  // namespace qseg::cli

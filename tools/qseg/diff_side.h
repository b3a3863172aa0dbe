// One side of `qseg diff`: a model in qseg's runtime, in the real TFLite (oracle.h) or exported by
// qseg's ONNX writer and run in ONNX Runtime (onnxruntime_peer.h); and the tensors a comparison
// reads (every layer's output, the float scores a final ArgMax reads).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "onnxruntime_peer.h"
#include "oracle.h"
#include "qseg/graph.h"
#include "qseg/interpreter.h"
#include "qseg/kernel_isa.h"
#include "qseg/requantization.h"
#include "qseg/status.h"

namespace qseg::cli {

struct SideArgs {
  std::string runtime;  // "qseg", "tflite" or "onnxruntime"
  std::string model;
  Requantization requantization = Requantization::kXnnpack;
  KernelIsa kernels = KernelIsa::kAuto;
  bool fuse_blocks = false;
};

// The tensors a layer comparison reads: every op's outputs, in op order.
std::vector<int32_t> layer_tensors(const Graph& g);

// The float scores a model's final ArgMax reads (its output 0 made by ARG_MAX over the last axis of
// a float32 tensor), or -1: the labels of such a model are compared with the scores beside them,
// so that float rounding's near ties are told apart from real differences.
int32_t argmax_scores(const Graph& g);

// Where the peers are installed: the real TFLite (--oracle), ONNX Runtime (--onnxruntime); and
// how the ONNX Runtime side's model is exported (--onnx-plain-qdq, --onnx-uint8-weights).
struct PeerDirs {
  std::filesystem::path oracle, onnxruntime;
  OnnxExportOptions onnx;
};

// One side of the comparison: a model in qseg, in the real TFLite, or exported by qseg's ONNX
// writer and run in ONNX Runtime. Its runners (the model's own outputs, every layer's output, a
// final ArgMax's scores) start when first needed.
class Side {
 public:
  Side(SideArgs args, Graph graph, PeerDirs dirs, int64_t max_arena)
      : args_(std::move(args)),
        graph_(std::move(graph)),
        dirs_(std::move(dirs)),
        max_arena_(max_arena) {}

  const Graph& graph() const { return graph_; }
  // "real TFLite", "ONNX Runtime (qseg's ONNX export)", "qseg xnnpack auto".
  std::string label() const;

  // What a run reads back: the model outputs (as users run it: default fusion), every layer
  // (nothing fused away, so every tensor exists), or the float scores a final ArgMax reads.
  enum class Read { kOutputs = 0, kLayers = 1, kScores = 2 };

  // The bytes of what `read` names after a run on input.
  Result<std::vector<std::vector<uint8_t>>> run(std::span<const uint8_t> input, Read read);

 private:
  SideArgs args_;
  Graph graph_;
  PeerDirs dirs_;
  int64_t max_arena_;
  std::unique_ptr<TfliteOracle> oracles_[3];
  std::unique_ptr<OnnxRuntimePeer> onnxruntime_[3];
  std::unique_ptr<Interpreter> interpreters_[3];
};

}  // namespace qseg::cli

// Runs a Graph: prepares every op once (checks, quantization multipliers), plans one arena for
// all activations, then invokes the ops in order without allocating.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "qseg/graph.h"
#include "qseg/kernel_isa.h"
#include "qseg/requantization.h"
#include "qseg/status.h"

namespace qseg {

class Kernel;
class ThreadPool;

struct InterpreterOptions {
  int num_threads = 1;
  // Give every tensor its own memory so all intermediates can be read after invoke() (more
  // memory); otherwise tensors with disjoint lifetimes share space.
  bool preserve_all_tensors = false;
  // Refuse plans larger than this (512 MiB, a device's budget; --max-arena-mb raises it).
  int64_t max_arena_bytes = int64_t{512} << 20;
  // TFLite's default CPU arithmetic (its XNNPACK delegate) or its built-in kernels' fixed-point
  // arithmetic; see qseg/requantization.h.
  Requantization requantization = Requantization::kXnnpack;
  // The kernels: kAuto runs the optimized ones for the best instruction set the CPU reports
  // (bit-exact with the reference), kReference the reference kernels; a named instruction set
  // the CPU or build lacks is an error. With optimized kernels and without
  // preserve_all_tensors, a RESIZE_BILINEAR read only by the next op's ARG_MAX over channels
  // runs fused with it: the resized tensor then has no memory (tensor_data gives null).
  KernelIsa kernel_isa = KernelIsa::kAuto;
  // With optimized kernels: also run each MobileNetV2 inverted residual (1x1 expand, depthwise,
  // 1x1 project) as one kernel over bands of rows, so its two wide intermediate tensors never
  // exist whole. A memory choice: dm0.5's arena drops from 4.0 MB to 2.1 MB, at 5-10% of speed
  // on the machine measured (BENCHMARKS.md).
  bool fuse_inverted_residuals = false;
};

class Interpreter {
 public:
  static Result<std::unique_ptr<Interpreter>> create(Graph graph,
                                                     const InterpreterOptions& options = {});
  ~Interpreter();
  Interpreter(const Interpreter&) = delete;
  Interpreter& operator=(const Interpreter&) = delete;

  // Runs all ops. after_op, when given, is called after each op with its index: the op's
  // outputs are valid at that moment even when their memory is reused later.
  template <typename Fn>
  void invoke(const Fn& after_op) {
    for (size_t i = 0; i < kernels_.size(); ++i) {
      run_op(i);
      after_op(static_cast<int>(i));
    }
  }
  void invoke() {
    invoke([](int) {});
  }

  const Graph& graph() const { return graph_; }
  const Tensor& tensor(int index) const { return graph_.tensors[index]; }
  const Tensor& input_tensor(int i = 0) const { return graph_.tensors[graph_.inputs[i]]; }
  const Tensor& output_tensor(int i = 0) const { return graph_.tensors[graph_.outputs[i]]; }

  // Data of any tensor: inputs to fill before invoke, outputs and intermediates to read after
  // (an intermediate holds its op's result until its memory is reused, unless
  // preserve_all_tensors). Null for zero-size tensors.
  void* tensor_data(int index) { return data_[index]; }
  const void* tensor_data(int index) const { return data_[index]; }
  std::span<uint8_t> input_bytes(int i = 0);
  std::span<const uint8_t> output_bytes(int i = 0) const;

  // Runs fn(begin, end) on chunks of [0, n) across the interpreter's threads and waits: for
  // work around invoke (a caller's preprocessing), not during it.
  void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn);

  int64_t arena_bytes() const { return arena_bytes_; }
  // The implementation op `index` runs: "reference", "avx512-vnni", ..., or "fused" for an op
  // whose work the previous op's kernel does.
  std::string_view kernel_variant(int index) const;
  KernelIsa kernel_isa() const { return kernel_isa_; }
  int num_threads() const;

 private:
  Interpreter() = default;
  void run_op(size_t index);
  // Allocates the arena and points every tensor at its data: constants at their contents,
  // activations at offsets[i] in the arena (-1: no memory).
  void bind_tensors(int64_t arena_bytes, const std::vector<int64_t>& offsets);

  Graph graph_;
  std::vector<std::unique_ptr<Kernel>> kernels_;
  std::vector<void*> data_;
  std::vector<uint8_t> arena_storage_;  // arena_bytes_ plus room to align its start
  uint8_t* arena_ = nullptr;
  int64_t arena_bytes_ = 0;
  KernelIsa kernel_isa_ = KernelIsa::kReference;
  std::unique_ptr<ThreadPool> pool_;
};

}  // namespace qseg

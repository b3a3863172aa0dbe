// The contract between the interpreter and every op: a Kernel is created once from the graph
// (checks, quantization multipliers, weight preparation) and then run many times without
// allocating, reading and writing tensors through pointers the interpreter provides.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "kernels/parallel.h"
#include "qseg/graph.h"
#include "qseg/kernel_isa.h"
#include "qseg/requantization.h"
#include "qseg/status.h"

namespace qseg {

struct KernelContext {
  // tensors[i] is the data of graph tensor i: constants point at Tensor::data, activations into
  // the interpreter's arena. Entries of tensors an op does not use may be null.
  std::span<void* const> tensors;
  ParallelFor* pool = nullptr;  // never null while running
};

class Kernel {
 public:
  virtual ~Kernel() = default;
  virtual void run(const KernelContext& context) const = 0;
  // Which implementation runs: "reference", or an instruction set ("avx512-vnni", ...).
  virtual std::string_view variant() const { return "reference"; }
};

// Checks op `op_index` of `graph` (input/output count, types, shapes against the op's semantics,
// quantization parameters) and returns its prepared kernel. Errors name the op and its index,
// e.g. "op 12 (CONV_2D): weights must be uint8 or int8, got int64".
struct KernelOptions {
  Requantization requantization = Requantization::kFixedPoint;
  // An instruction set the CPU supports (kAuto resolved), or kReference. Ops and
  // configurations its kernels do not cover get the reference kernel.
  KernelIsa isa = KernelIsa::kReference;
  int num_threads = 1;  // the interpreter's: kernels with per-thread scratch size it by this
};
Result<std::unique_ptr<Kernel>> create_kernel(const Graph& graph, int op_index,
                                              const KernelOptions& options = {});

}  // namespace qseg

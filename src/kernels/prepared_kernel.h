// The one Kernel every op registration uses: the op's prepared params, its tensor indices, the
// number of work units and a run function chosen at prepare time for the data types.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "kernels/kernel.h"
#include "qseg/graph.h"

namespace qseg::kernels {

// An op's tensors as its run function sees them: input i and output i by position.
struct KernelIo {
  const KernelContext& context;
  std::span<const int32_t> inputs;
  std::span<const int32_t> outputs;

  template <typename T>
  const T* in(size_t i) const {
    return static_cast<const T*>(context.tensors[inputs[i]]);
  }
  // An optional input: null when the op has none.
  template <typename T>
  const T* optional_in(size_t i) const {
    return i < inputs.size() && inputs[i] != kNoTensor ? in<T>(i) : nullptr;
  }
  template <typename T>
  T* out(size_t i) const {
    return static_cast<T*>(context.tensors[outputs[i]]);
  }
};

template <typename Params>
class PreparedKernel final : public Kernel {
 public:
  // Computes work units [begin, end) of the op (rows, pixels or elements, as the op defines).
  using RunFn = void (*)(const Params& params, const KernelIo& io, int64_t begin, int64_t end);

  PreparedKernel(Params params, RunFn run, int64_t units, std::vector<int32_t> inputs,
                 std::vector<int32_t> outputs, std::string_view variant)
      : params_(std::move(params)),
        run_(run),
        units_(units),
        inputs_(std::move(inputs)),
        outputs_(std::move(outputs)),
        variant_(variant) {}

  // The units split across the context's threads.
  void run(const KernelContext& context) const override {
    const KernelIo io{context, inputs_, outputs_};
    context.pool->parallel_for(units_,
                               [&](int64_t begin, int64_t end) { run_(params_, io, begin, end); });
  }
  std::string_view variant() const override { return variant_; }

 private:
  Params params_;
  RunFn run_;
  int64_t units_;
  std::vector<int32_t> inputs_;
  std::vector<int32_t> outputs_;
  std::string_view variant_;  // a static name
};

// What prepare chose for an op: the run function and how many units of work it splits into.
template <typename Params>
struct RunChoice {
  typename PreparedKernel<Params>::RunFn run = nullptr;
  int64_t units = 0;
};

// The kernel of `op` (its inputs and outputs) with `params` and `choice`.
template <typename Params>
std::unique_ptr<Kernel> make_prepared_kernel(Params params, RunChoice<Params> choice, const Op& op,
                                             std::string_view variant) {
  return std::make_unique<PreparedKernel<Params>>(std::move(params), choice.run, choice.units,
                                                  op.inputs, op.outputs, variant);
}

}  // namespace qseg::kernels

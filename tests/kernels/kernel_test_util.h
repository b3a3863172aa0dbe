// Helpers for the kernel tests (header only): one-op graphs built tensor by tensor, run through
// create_kernel on a ThreadPool, plus random data, byte conversions and the independent double
// arithmetic (quantize, window geometry) the tests compare the kernels against.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "kernels/kernel.h"
#include "qseg/graph.h"
#include "runtime/thread_pool.h"

namespace qseg::test {

// Bytes checked past the end of every activation buffer of OpGraph::run: none under ASan, which
// catches overruns itself when the buffers have their exact size.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr size_t kGuardBytes = 0;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr size_t kGuardBytes = 0;
#else
inline constexpr size_t kGuardBytes = 64;
#endif
#else
inline constexpr size_t kGuardBytes = 64;
#endif

inline Quantization per_tensor(float scale, int64_t zero_point) {
  Quantization q;
  q.scale = {scale};
  q.zero_point = {zero_point};
  return q;
}

inline Quantization per_channel(std::vector<float> scales, int32_t dimension) {
  Quantization q;
  q.zero_point.assign(scales.size(), 0);
  q.scale = std::move(scales);
  q.quantized_dimension = dimension;
  return q;
}

template <typename T>
std::vector<uint8_t> to_bytes(const std::vector<T>& values) {
  std::vector<uint8_t> bytes(values.size() * sizeof(T));
  if (!bytes.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

template <typename T>
std::vector<T> from_bytes(const std::vector<uint8_t>& bytes) {
  std::vector<T> values(bytes.size() / sizeof(T));
  if (!values.empty()) std::memcpy(values.data(), bytes.data(), values.size() * sizeof(T));
  return values;
}

// A graph holding one op (op 0) and its tensors.
class OpGraph {
 public:
  // An activation: its data is given to run().
  int add_tensor(DataType type, std::vector<int32_t> shape, Quantization quant = {}) {
    Tensor t;
    t.name = "t";
    t.name += std::to_string(graph_.tensors.size());
    t.type = type;
    t.shape = std::move(shape);
    t.quant = std::move(quant);
    graph_.tensors.push_back(std::move(t));
    return static_cast<int>(graph_.tensors.size()) - 1;
  }

  template <typename T>
  int add_constant(DataType type, std::vector<int32_t> shape, const std::vector<T>& values,
                   Quantization quant = {}) {
    const int index = add_tensor(type, std::move(shape), std::move(quant));
    graph_.tensors[index].data = to_bytes(values);
    graph_.tensors[index].is_constant = true;
    return index;
  }

  void set_op(OpType type, std::vector<int32_t> inputs, std::vector<int32_t> outputs,
              OpOptions options = {}) {
    Op op;
    op.type = type;
    op.inputs = std::move(inputs);
    op.outputs = std::move(outputs);
    op.options = std::move(options);
    graph_.ops = {std::move(op)};
  }

  Graph& graph() { return graph_; }
  Tensor& tensor(int index) { return graph_.tensors[index]; }
  Op& op() { return graph_.ops[0]; }

  // The kernel variant create() asks for (the reference kernels unless set).
  void set_kernel_options(KernelOptions options) { kernel_options_ = options; }

  Result<std::unique_ptr<Kernel>> create() const {
    return create_kernel(graph_, 0, kernel_options_);
  }

  // The error message of create(), or "" if it succeeded.
  std::string create_error() const {
    auto kernel = create();
    return kernel.is_ok() ? std::string() : kernel.status().message();
  }

  // Creates op 0's kernel and runs it on a pool of `threads` threads. `inputs` maps every
  // non-constant input tensor to its bytes. Returns the bytes of output 0, or empty (with a test
  // failure) if the kernel could not be created. Every buffer has its exact size plus kGuardBytes
  // (so ASan, or the check of the guard after the run, catches overruns) and outputs start
  // filled with 0xA5 (so unwritten elements show).
  //
  // `invoke`, if given, is called instead of kernel.run(context) (to observe the run).
  using Invoke = std::function<void(const Kernel&, const KernelContext&)>;
  std::vector<uint8_t> run(const std::map<int, std::vector<uint8_t>>& inputs, int threads = 1,
                           const Invoke& invoke = nullptr) {
    auto kernel = create();
    if (!kernel.is_ok()) {
      ADD_FAILURE() << "create_kernel failed: " << kernel.status().message();
      return {};
    }
    std::vector<std::vector<uint8_t>> buffers(graph_.tensors.size());
    std::vector<void*> pointers(graph_.tensors.size(), nullptr);
    for (size_t i = 0; i < graph_.tensors.size(); ++i) {
      Tensor& t = graph_.tensors[i];
      if (t.is_constant) {
        pointers[i] = t.data.data();
        continue;
      }
      const auto size = static_cast<size_t>(t.byte_size());
      buffers[i].assign(size + kGuardBytes, 0xA5);
      if (auto it = inputs.find(static_cast<int>(i)); it != inputs.end()) {
        EXPECT_EQ(it->second.size(), size) << "input data size for tensor " << i;
        std::copy_n(it->second.begin(), std::min(it->second.size(), size), buffers[i].begin());
      }
      pointers[i] = buffers[i].data();
    }
    ThreadPool pool(threads);
    KernelContext context;
    context.tensors = pointers;
    context.pool = &pool;
    if (invoke) {
      invoke(*kernel.value(), context);
    } else {
      kernel.value()->run(context);
    }
    for (size_t i = 0; i < graph_.tensors.size(); ++i) {
      if (graph_.tensors[i].is_constant) continue;
      const size_t size = buffers[i].size() - kGuardBytes;
      const auto written = std::find_if(buffers[i].begin() + static_cast<std::ptrdiff_t>(size),
                                        buffers[i].end(), [](uint8_t b) { return b != 0xA5; });
      if (written != buffers[i].end()) {
        ADD_FAILURE() << "the kernel wrote past the end of tensor " << i << " (" << size
                      << " bytes): byte " << (written - buffers[i].begin()) - size << " after it";
      }
      buffers[i].resize(size);
    }
    return buffers[graph_.ops[0].outputs[0]];
  }

 private:
  Graph graph_;
  KernelOptions kernel_options_;
};

// Uniform random integers in [lo, hi] as T.
template <typename T>
std::vector<T> random_ints(size_t n, int64_t lo, int64_t hi, std::mt19937& rng) {
  std::uniform_int_distribution<int64_t> dist(lo, hi);
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(dist(rng));
  return v;
}

inline std::vector<float> random_floats(size_t n, float lo, float hi, std::mt19937& rng) {
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

// The expected quantized value of a real number: round half away from zero, clamped.
inline int32_t quantize_double(double real, double scale, int32_t zero_point, int32_t qmin,
                               int32_t qmax) {
  const double q = std::round(real / scale) + zero_point;
  return static_cast<int32_t>(std::clamp(q, static_cast<double>(qmin), static_cast<double>(qmax)));
}

// The real-valued fused activation.
inline double activate(double x, Activation activation) {
  switch (activation) {
    case Activation::kRelu:
      return std::max(x, 0.0);
    case Activation::kRelu6:
      return std::clamp(x, 0.0, 6.0);
    case Activation::kReluN1To1:
      return std::clamp(x, -1.0, 1.0);
    case Activation::kNone:
      break;
  }
  return x;
}

// TFLite's window geometry along one axis, written out again here for the tests.
struct Axis {
  int out = 0;
  int pad = 0;
};
inline Axis axis_geometry(Padding padding, int in, int filter, int stride, int dilation) {
  const int effective = (filter - 1) * dilation + 1;
  Axis a;
  a.out =
      padding == Padding::kSame ? (in + stride - 1) / stride : (in - effective + stride) / stride;
  a.pad = std::max((a.out - 1) * stride + effective - in, 0) / 2;
  return a;
}

// Compares quantized outputs with the expected ones: every value within `tolerance` steps and
// at most max_mismatches values different at all.
template <typename T>
void expect_close_quantized(const std::vector<T>& actual, const std::vector<int32_t>& expected,
                            int tolerance, size_t max_mismatches, const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  size_t mismatches = 0;
  int worst = 0;
  for (size_t i = 0; i < actual.size(); ++i) {
    const int diff = std::abs(static_cast<int>(actual[i]) - expected[i]);
    if (diff != 0) ++mismatches;
    worst = std::max(worst, diff);
    if (diff > tolerance) {
      ADD_FAILURE() << what << ": element " << i << " is " << static_cast<int>(actual[i])
                    << ", expected " << expected[i];
      return;
    }
  }
  EXPECT_LE(mismatches, max_mismatches)
      << what << ": " << mismatches << " of " << actual.size() << " differ (worst " << worst << ")";
}

inline int64_t element_count(const std::vector<int32_t>& shape) {
  int64_t n = 1;
  for (int32_t d : shape) n *= d;
  return n;
}

// NumPy broadcasting, written out: the output shape and, per output element, the flat index of
// the element of each input it reads.
inline std::vector<int32_t> broadcast_sources(const std::vector<int32_t>& a,
                                              const std::vector<int32_t>& b,
                                              std::vector<std::pair<int64_t, int64_t>>* sources) {
  const size_t rank = std::max(a.size(), b.size());
  std::vector<int32_t> pa(rank - a.size(), 1), pb(rank - b.size(), 1), out(rank);
  pa.insert(pa.end(), a.begin(), a.end());
  pb.insert(pb.end(), b.begin(), b.end());
  for (size_t d = 0; d < rank; ++d) out[d] = std::max(pa[d], pb[d]);
  sources->clear();
  for (int64_t i = 0; i < element_count(out); ++i) {
    int64_t rest = i, ia = 0, ib = 0, sa = 1, sb = 1;
    for (size_t d = rank; d-- > 0;) {
      const int64_t coord = rest % out[d];
      rest /= out[d];
      ia += (pa[d] == 1 ? 0 : coord) * sa;
      ib += (pb[d] == 1 ? 0 : coord) * sb;
      sa *= pa[d];
      sb *= pb[d];
    }
    sources->emplace_back(ia, ib);
  }
  return out;
}

// Default mismatch allowance for "within one step, nearly all exact": 1% plus one.
inline size_t few(size_t n) { return n / 100 + 1; }

// The allowance for a fixed-point requantization by `multiplier` = 2^-right * [0.5, 1): TFLite
// rounds twice (the high multiply to 2^-31, then the right shift), so a value within
// 2^-(right + 1) steps below a .5 tie rounds up; the expected rate of such values is
// 2^-(right + 1). Twice that, plus few(n).
inline size_t double_rounding_allowance(size_t n, double multiplier) {
  int exponent = 0;
  std::frexp(multiplier, &exponent);
  const int right = std::max(0, -exponent);
  return static_cast<size_t>(static_cast<double>(n) * 2.0 * std::ldexp(1.0, -(right + 1))) + few(n);
}

}  // namespace qseg::test

// qseg_kernels_bench: Google Benchmark suite for single uint8 kernels, the reference kernel
// against every optimized variant this CPU and build can run, on the layer shapes of the
// published DeepLabV3 MobileNetV2 dm0.5 model (513x513 input). Each benchmark builds a one-op
// graph, creates its kernel with create_kernel and times Kernel::run alone on a ThreadPool of
// --threads threads (default 1); names are BM_<Op>/<variant>/<shape>/real_time (wall time).
// A benchmark fails (SkipWithError) unless the variant asked for is the one created and, for an
// optimized variant, its output equals the reference kernel's byte for byte. Counters: GMAC/s
// (convolutions), items_per_second (output elements) and bytes_per_second (input + weights +
// bias + output bytes read or written once per run, a lower bound of the memory traffic).
//
//   qseg_kernels_bench [--threads=N] [Google Benchmark flags, e.g. --benchmark_filter=Conv1x1]
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kernels/kernel.h"
#include "qseg/graph.h"
#include "qseg/kernel_isa.h"
#include "runtime/thread_pool.h"

namespace qseg {
namespace {

int g_threads = 1;  // --threads: the ThreadPool size every kernel runs on

Quantization per_tensor(float scale, int64_t zero_point) {
  Quantization q;
  q.scale = {scale};
  q.zero_point = {zero_point};
  return q;
}

template <typename T>
std::vector<T> random_values(size_t n, int64_t lo, int64_t hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int64_t> dist(lo, hi);
  std::vector<T> values(n);
  for (T& v : values) v = static_cast<T>(dist(rng));
  return values;
}

// A graph holding one op (op 0): activations get random data at run time, constants their own.
class OneOpGraph {
 public:
  int add_tensor(DataType type, std::vector<int32_t> shape, Quantization quant = {}) {
    Tensor t;
    t.name = "t";
    t.name += std::to_string(graph_.tensors.size());  // (not "t" + ...: GCC 12 -Wrestrict)
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
    Tensor& t = graph_.tensors[index];
    t.data.resize(values.size() * sizeof(T));
    if (!values.empty()) std::memcpy(t.data.data(), values.data(), t.data.size());
    t.is_constant = true;
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

  const Graph& graph() const { return graph_; }

 private:
  Graph graph_;
};

// One benchmarked op, shared by its variants.
struct Case {
  Graph graph;
  double macs = 0;  // multiply-adds per run; 0 for ops where they mean little (ADD, RESIZE)
  // The arithmetic the kernels follow (MUL and SUB have vector kernels for XNNPACK's alone).
  Requantization requantization = Requantization::kFixedPoint;
  // The reference kernel's output on the benchmark's inputs, computed by the first optimized
  // variant that runs.
  std::vector<uint8_t> reference_output;
};

// Creates op 0's kernel for `isa` and times its runs. Skips with an error when the kernel cannot
// be created, when a different variant than `isa` was created (the optimized kernel did not
// cover the op and the reference one would have been measured instead), or when an optimized
// kernel's output differs from the reference kernel's.
void run_kernel(benchmark::State& state, Case& c, KernelIsa isa) {
  const Graph& graph = c.graph;
  KernelOptions options;
  options.isa = isa;
  options.requantization = c.requantization;
  Result<std::unique_ptr<Kernel>> kernel = create_kernel(graph, 0, options);
  if (!kernel.is_ok()) {
    state.SkipWithError(("create_kernel failed: " + kernel.status().message()).c_str());
    return;
  }
  const std::string_view variant = kernel.value()->variant();
  if (variant != kernel_isa_name(isa)) {
    const std::string message =
        "created the " + std::string(variant) + " kernel, not " + std::string(kernel_isa_name(isa));
    state.SkipWithError(message.c_str());
    return;
  }
  const Op& op = graph.ops[0];
  std::vector<std::vector<uint8_t>> buffers(graph.tensors.size());
  std::vector<void*> pointers(graph.tensors.size(), nullptr);
  int64_t bytes = 0;
  for (const auto& list : {op.inputs, op.outputs}) {
    for (int32_t index : list) {
      if (index == kNoTensor) continue;
      const Tensor& t = graph.tensors[index];
      bytes += t.byte_size();
      if (t.is_constant) {
        pointers[index] = const_cast<uint8_t*>(t.data.data());
      } else {
        buffers[index] = random_values<uint8_t>(static_cast<size_t>(t.byte_size()), 0, 255,
                                                static_cast<uint32_t>(index) + 1);
        pointers[index] = buffers[index].data();
      }
    }
  }
  ThreadPool pool(g_threads);
  KernelContext context;
  context.tensors = pointers;
  context.pool = &pool;
  std::vector<uint8_t>& output_bytes = buffers[op.outputs[0]];
  if (isa != KernelIsa::kReference && c.reference_output.empty()) {
    KernelOptions reference_options;
    reference_options.requantization = c.requantization;
    Result<std::unique_ptr<Kernel>> reference = create_kernel(graph, 0, reference_options);
    if (!reference.is_ok()) {
      state.SkipWithError(
          ("reference create_kernel failed: " + reference.status().message()).c_str());
      return;
    }
    reference.value()->run(context);
    c.reference_output = output_bytes;
  }
  kernel.value()->run(context);  // also the warm-up: pages the buffers in
  if (isa != KernelIsa::kReference) {
    size_t differ = 0;
    for (size_t i = 0; i < output_bytes.size(); ++i) {
      differ += output_bytes[i] != c.reference_output[i];
    }
    if (differ != 0) {
      const std::string message = "output differs from the reference kernel's in " +
                                  std::to_string(differ) + " of " +
                                  std::to_string(output_bytes.size()) + " bytes";
      state.SkipWithError(message.c_str());
      return;
    }
  }
  for (auto _ : state) {
    kernel.value()->run(context);
    benchmark::ClobberMemory();
  }
  const auto iterations = static_cast<double>(state.iterations());
  const Tensor& output = graph.tensors[op.outputs[0]];
  state.SetItemsProcessed(state.iterations() * output.num_elements());
  state.SetBytesProcessed(state.iterations() * bytes);
  if (c.macs > 0) {
    state.counters["GMAC/s"] =
        benchmark::Counter(c.macs * iterations * 1e-9, benchmark::Counter::kIsRate);
  }
  state.counters["threads"] = g_threads;
}

// SAME padding's output size.
int same_out(int in, int stride) { return (in + stride - 1) / stride; }

std::string shape_name(int h, int w, int c) {
  return std::to_string(h) + "x" + std::to_string(w) + "x" + std::to_string(c);
}

// CONV_2D uint8 with per-tensor weights (zero point nonzero) and an int32 bias of scale
// in_scale * w_scale. The output scale makes the multiplier in_scale * w_scale / out_scale
// 1 / (128 sqrt(k)): below 1, which the optimized kernels require, and small enough that outputs
// of uniform random data spread over the uint8 range (standard deviation ~40 steps) rather than
// saturate.
Graph conv_graph(int h, int w, int in_c, int out_c, int filter, int stride, Activation activation) {
  const int k = filter * filter * in_c;
  const float in_scale = 0.02f, w_scale = 0.01f;
  const float out_scale = in_scale * w_scale * 128.0f * std::sqrt(static_cast<float>(k));
  OneOpGraph g;
  const int in = g.add_tensor(DataType::kUInt8, {1, h, w, in_c}, per_tensor(in_scale, 121));
  const int wt = g.add_constant(DataType::kUInt8, {out_c, filter, filter, in_c},
                                random_values<uint8_t>(size_t(out_c) * k, 0, 255, 11),
                                per_tensor(w_scale, 133));
  const int bt =
      g.add_constant(DataType::kInt32, {out_c}, random_values<int32_t>(out_c, -20000, 20000, 12),
                     per_tensor(in_scale * w_scale, 0));
  const int out =
      g.add_tensor(DataType::kUInt8, {1, same_out(h, stride), same_out(w, stride), out_c},
                   per_tensor(out_scale, activation == Activation::kNone ? 128 : 0));
  Conv2dOptions options;
  options.padding = Padding::kSame;
  options.stride_h = options.stride_w = stride;
  options.activation = activation;
  g.set_op(OpType::kConv2d, {in, wt, bt}, {out}, options);
  return g.graph();
}

double conv_macs(int h, int w, int in_c, int out_c, int filter, int stride) {
  return double(same_out(h, stride)) * same_out(w, stride) * out_c * filter * filter * in_c;
}

// DEPTHWISE_CONV_2D 3x3 uint8, depth multiplier 1, SAME padding, ReLU6.
Graph depthwise_graph(int h, int w, int c, int stride, int dilation) {
  const float in_scale = 0.02f, w_scale = 0.01f;
  OneOpGraph g;
  const int in = g.add_tensor(DataType::kUInt8, {1, h, w, c}, per_tensor(in_scale, 117));
  const int wt =
      g.add_constant(DataType::kUInt8, {1, 3, 3, c},
                     random_values<uint8_t>(size_t(9) * c, 0, 255, 21), per_tensor(w_scale, 129));
  const int bt = g.add_constant(DataType::kInt32, {c}, random_values<int32_t>(c, -5000, 5000, 22),
                                per_tensor(in_scale * w_scale, 0));
  const int out = g.add_tensor(DataType::kUInt8, {1, same_out(h, stride), same_out(w, stride), c},
                               per_tensor(0.08f, 0));  // multiplier 1 / 400: outputs unsaturated
  DepthwiseConv2dOptions options;
  options.padding = Padding::kSame;
  options.stride_h = options.stride_w = stride;
  options.dilation_h = options.dilation_w = dilation;
  options.activation = Activation::kRelu6;
  g.set_op(OpType::kDepthwiseConv2d, {in, wt, bt}, {out}, options);
  return g.graph();
}

// ADD uint8 of two same-shape tensors (no broadcasting), as in the inverted residual blocks.
Graph add_graph(int h, int w, int c) {
  OneOpGraph g;
  const int a = g.add_tensor(DataType::kUInt8, {1, h, w, c}, per_tensor(0.05f, 128));
  const int b = g.add_tensor(DataType::kUInt8, {1, h, w, c}, per_tensor(0.04f, 120));
  const int out = g.add_tensor(DataType::kUInt8, {1, h, w, c}, per_tensor(0.08f, 125));
  g.set_op(OpType::kAdd, {a, b}, {out}, AddOptions{});
  return g.graph();
}

// MobileNetV3's elementwise ops on uint8: squeeze-excite's MUL of [1,h,w,c] by its per-channel
// gate [1,1,1,c], HARD_SWISH, and SUB of two same-shape tensors.
Graph mul_graph(int h, int w, int c) {
  OneOpGraph g;
  const int a = g.add_tensor(DataType::kUInt8, {1, h, w, c}, per_tensor(0.05f, 128));
  const int b = g.add_tensor(DataType::kUInt8, {1, 1, 1, c}, per_tensor(1.0f / 255, 0));
  const int out = g.add_tensor(DataType::kUInt8, {1, h, w, c}, per_tensor(0.04f, 125));
  g.set_op(OpType::kMul, {a, b}, {out}, MulOptions{});
  return g.graph();
}
Graph hard_swish_graph(int h, int w, int c) {
  OneOpGraph g;
  const int in = g.add_tensor(DataType::kUInt8, {1, h, w, c}, per_tensor(0.05f, 128));
  const int out = g.add_tensor(DataType::kUInt8, {1, h, w, c}, per_tensor(0.03f, 20));
  g.set_op(OpType::kHardSwish, {in}, {out});
  return g.graph();
}
Graph sub_graph(int h, int w, int c) {
  OneOpGraph g;
  const int a = g.add_tensor(DataType::kUInt8, {1, h, w, c}, per_tensor(0.05f, 128));
  const int b = g.add_tensor(DataType::kUInt8, {1, h, w, c}, per_tensor(0.04f, 120));
  const int out = g.add_tensor(DataType::kUInt8, {1, h, w, c}, per_tensor(0.08f, 125));
  g.set_op(OpType::kSub, {a, b}, {out}, SubOptions{});
  return g.graph();
}

// RESIZE_BILINEAR uint8 with align_corners (the logits upsampling), not fused with ARG_MAX.
Graph resize_graph(int in_h, int in_w, int out_h, int out_w, int c) {
  OneOpGraph g;
  const int in = g.add_tensor(DataType::kUInt8, {1, in_h, in_w, c}, per_tensor(0.1f, 3));
  const int size = g.add_constant(DataType::kInt32, {2}, std::vector<int32_t>{out_h, out_w});
  const int out = g.add_tensor(DataType::kUInt8, {1, out_h, out_w, c}, per_tensor(0.1f, 3));
  ResizeBilinearOptions options;
  options.align_corners = true;
  g.set_op(OpType::kResizeBilinear, {in, size}, {out}, options);
  return g.graph();
}

// The data-movement ops at DeepLab sizes (uint8; reference kernels: row and pixel memcpy).
Graph tile_graph(int h, int w, int c) {
  OneOpGraph g;
  const int in = g.add_tensor(DataType::kUInt8, {1, 1, 1, c}, per_tensor(0.1f, 3));
  const int m = g.add_constant(DataType::kInt32, {4}, std::vector<int32_t>{1, h, w, 1});
  const int out = g.add_tensor(DataType::kUInt8, {1, h, w, c}, per_tensor(0.1f, 3));
  g.set_op(OpType::kTile, {in, m}, {out});
  return g.graph();
}

Graph pad_graph(int h, int w, int c, int pad) {
  OneOpGraph g;
  const int in = g.add_tensor(DataType::kUInt8, {1, h, w, c}, per_tensor(0.1f, 3));
  const int p = g.add_constant(DataType::kInt32, {4, 2},
                               std::vector<int32_t>{0, 0, pad, pad, pad, pad, 0, 0});
  const int out =
      g.add_tensor(DataType::kUInt8, {1, h + 2 * pad, w + 2 * pad, c}, per_tensor(0.1f, 3));
  g.set_op(OpType::kPad, {in, p}, {out});
  return g.graph();
}

// SPACE_TO_BATCH_ND (block 2, padding to even sides) or its inverse, as a rate-2 atrous conv
// wraps a 65x65 feature map.
Graph space_batch_graph(bool to_batch, int side, int c) {
  OneOpGraph g;
  const int padded = (side + 1) / 2 * 2 + 2;  // even, with 1 before
  const std::vector<int32_t> space{1, side, side, c}, batch{4, padded / 2, padded / 2, c};
  const int in = g.add_tensor(DataType::kUInt8, to_batch ? space : batch, per_tensor(0.1f, 3));
  const int block = g.add_constant(DataType::kInt32, {2}, std::vector<int32_t>{2, 2});
  const int after = padded - side - 1;
  const int pairs =
      g.add_constant(DataType::kInt32, {2, 2}, std::vector<int32_t>{1, after, 1, after});
  const int out = g.add_tensor(DataType::kUInt8, to_batch ? batch : space, per_tensor(0.1f, 3));
  g.set_op(to_batch ? OpType::kSpaceToBatchNd : OpType::kBatchToSpaceNd, {in, block, pairs}, {out});
  return g.graph();
}

Graph resize_nearest_graph(int in_side, int out_side, int c) {
  OneOpGraph g;
  const int in = g.add_tensor(DataType::kUInt8, {1, in_side, in_side, c}, per_tensor(0.1f, 3));
  const int size = g.add_constant(DataType::kInt32, {2}, std::vector<int32_t>{out_side, out_side});
  const int out = g.add_tensor(DataType::kUInt8, {1, out_side, out_side, c}, per_tensor(0.1f, 3));
  g.set_op(OpType::kResizeNearestNeighbor, {in, size}, {out}, ResizeNearestNeighborOptions{});
  return g.graph();
}

// Registers `name`/<variant>/`shape` for every variant; the case is built once and shared.
void register_variants(const std::string& name, const std::string& shape, Graph graph, double macs,
                       const std::vector<KernelIsa>& isas,
                       Requantization requantization = Requantization::kFixedPoint) {
  auto shared = std::make_shared<Case>();
  shared->graph = std::move(graph);
  shared->macs = macs;
  shared->requantization = requantization;
  for (KernelIsa isa : isas) {
    const std::string full = name + "/" + std::string(kernel_isa_name(isa)) + "/" + shape;
    benchmark::RegisterBenchmark(
        full.c_str(), [shared, isa](benchmark::State& state) { run_kernel(state, *shared, isa); })
        ->Unit(benchmark::kMicrosecond)
        ->UseRealTime();
  }
}

void register_all() {
  std::vector<KernelIsa> isas = {KernelIsa::kReference};
  for (KernelIsa isa : available_optimized_kernel_isas()) isas.push_back(isa);

  struct Conv1x1 {
    int h, w, in_c, out_c;
  };
  const Conv1x1 conv1x1[] = {{257, 257, 8, 48}, {129, 129, 48, 12}, {65, 65, 16, 96},
                             {65, 65, 96, 16},  {33, 33, 80, 480},  {33, 33, 480, 80},
                             {33, 33, 512, 256}};
  for (const Conv1x1& c : conv1x1) {
    // Expansions end in ReLU6, projections are linear, as in MobileNetV2.
    const Activation activation = c.out_c > c.in_c ? Activation::kRelu6 : Activation::kNone;
    register_variants("BM_Conv1x1", shape_name(c.h, c.w, c.in_c) + "->" + std::to_string(c.out_c),
                      conv_graph(c.h, c.w, c.in_c, c.out_c, 1, 1, activation),
                      conv_macs(c.h, c.w, c.in_c, c.out_c, 1, 1), isas);
  }

  register_variants("BM_Conv3x3s2", "513x513x3->16",
                    conv_graph(513, 513, 3, 16, 3, 2, Activation::kRelu6),
                    conv_macs(513, 513, 3, 16, 3, 2), isas);

  struct Depthwise {
    int h, w, c, stride, dilation;
  };
  const Depthwise depthwise[] = {
      {257, 257, 16, 1, 1}, {257, 257, 48, 2, 1}, {129, 129, 72, 1, 1}, {33, 33, 480, 1, 2}};
  for (const Depthwise& d : depthwise) {
    const int out_h = same_out(d.h, d.stride), out_w = same_out(d.w, d.stride);
    register_variants("BM_Depthwise3x3",
                      shape_name(d.h, d.w, d.c) + "/s" + std::to_string(d.stride) + "/d" +
                          std::to_string(d.dilation),
                      depthwise_graph(d.h, d.w, d.c, d.stride, d.dilation),
                      double(out_h) * out_w * d.c * 9, isas);
  }

  register_variants("BM_Add", shape_name(65, 65, 16), add_graph(65, 65, 16), 0, isas);

  // MobileNetV3-sized activations, in qseg's default (XNNPACK's) arithmetic.
  register_variants("BM_MulChannelVector", shape_name(65, 65, 120), mul_graph(65, 65, 120), 0, isas,
                    Requantization::kXnnpack);
  register_variants("BM_HardSwish", shape_name(129, 129, 64), hard_swish_graph(129, 129, 64), 0,
                    isas, Requantization::kXnnpack);
  register_variants("BM_Sub", shape_name(65, 65, 40), sub_graph(65, 65, 40), 0, isas,
                    Requantization::kXnnpack);

  register_variants("BM_ResizeBilinear", "33x33x21->513x513x21/align_corners",
                    resize_graph(33, 33, 513, 513, 21), 0, isas);

  // Data movement has reference kernels only.
  const std::vector<KernelIsa> reference = {KernelIsa::kReference};
  register_variants("BM_Tile", "1x1x256->65x65x256", tile_graph(65, 65, 256), 0, reference);
  register_variants("BM_Pad", shape_name(65, 65, 256) + "/1", pad_graph(65, 65, 256, 1), 0,
                    reference);
  register_variants("BM_SpaceToBatchNd", shape_name(65, 65, 320) + "/block2",
                    space_batch_graph(true, 65, 320), 0, reference);
  register_variants("BM_BatchToSpaceNd", shape_name(65, 65, 320) + "/block2",
                    space_batch_graph(false, 65, 320), 0, reference);
  register_variants("BM_ResizeNearestNeighbor", "33x33x21->513x513x21",
                    resize_nearest_graph(33, 513, 21), 0, reference);
}

}  // namespace
}  // namespace qseg

int main(int argc, char** argv) {
  // Takes --threads=N out of argv before Google Benchmark sees (and rejects) it.
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--threads=", 10) == 0) {
      qseg::g_threads = std::max(1, std::atoi(argv[i] + 10));
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  qseg::register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

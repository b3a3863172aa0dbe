// Kernel::run must not allocate (prepare once, run many): every op type is run on a pool of
// several threads while a replaced global operator new counts allocations.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "kernel_test_util.h"
#include "qseg/interpreter.h"
#include "qseg/kernel_isa.h"
#include "qseg/tflite.h"
#include "test_util.h"

namespace {
std::atomic<bool> g_counting{false};
std::atomic<int64_t> g_allocations{0};

void* counted_allocation(size_t size) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
}  // namespace

// Replacing the global operators affects the whole test binary; they only count. Every form is
// replaced (the nothrow ones too: std::stable_sort's buffer uses them) so that each allocation
// and its release go through malloc and free.
void* operator new(size_t size) { return counted_allocation(size); }
void* operator new[](size_t size) { return counted_allocation(size); }
void* operator new(size_t size, const std::nothrow_t&) noexcept {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1);
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](size_t size, const std::nothrow_t& tag) noexcept {
  return operator new(size, tag);
}
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }

namespace qseg::test {
namespace {

// Runs op 0 of `g` with allocation counting on around Kernel::run only; returns the count.
int64_t allocations_during_run(OpGraph& g, const std::map<int, std::vector<uint8_t>>& inputs) {
  int64_t counted = -1;
  g.run(inputs, 3, [&](const Kernel& kernel, const KernelContext& context) {
    g_allocations = 0;
    g_counting = true;
    kernel.run(context);
    g_counting = false;
    counted = g_allocations.load();
  });
  return counted;
}

TEST(NoAllocationTest, CountingWorks) {
  g_allocations = 0;
  g_counting = true;
  auto* p = new std::vector<int>(3);
  g_counting = false;
  delete p;
  EXPECT_GE(g_allocations.load(), 1);
}

TEST(NoAllocationTest, EveryOpType) {
  const Quantization q = per_tensor(0.1f, 10);
  const std::vector<uint8_t> image(1 * 6 * 6 * 4, 17);
  {
    OpGraph g;
    const int in = g.add_tensor(DataType::kUInt8, {1, 6, 6, 4}, q);
    const int w = g.add_constant(DataType::kUInt8, {3, 3, 3, 4}, std::vector<uint8_t>(108, 9),
                                 per_tensor(0.01f, 5));
    const int b = g.add_constant(DataType::kInt32, {3}, std::vector<int32_t>{1, 2, 3});
    const int out = g.add_tensor(DataType::kUInt8, {1, 6, 6, 3}, q);
    g.set_op(OpType::kConv2d, {in, w, b}, {out}, Conv2dOptions{});
    EXPECT_EQ(allocations_during_run(g, {{in, image}}), 0) << "CONV_2D";
  }
  {
    OpGraph g;
    const int in = g.add_tensor(DataType::kUInt8, {1, 6, 6, 4}, q);
    const int w = g.add_constant(DataType::kUInt8, {1, 3, 3, 4}, std::vector<uint8_t>(36, 9),
                                 per_tensor(0.01f, 5));
    const int out = g.add_tensor(DataType::kUInt8, {1, 6, 6, 4}, q);
    g.set_op(OpType::kDepthwiseConv2d, {in, w}, {out}, DepthwiseConv2dOptions{});
    EXPECT_EQ(allocations_during_run(g, {{in, image}}), 0) << "DEPTHWISE_CONV_2D";
  }
  {
    OpGraph g;
    const int a = g.add_tensor(DataType::kUInt8, {1, 6, 6, 4}, q);
    const int b = g.add_tensor(DataType::kUInt8, {1, 1, 6, 4}, per_tensor(0.2f, 3));
    const int out = g.add_tensor(DataType::kUInt8, {1, 6, 6, 4}, q);
    g.set_op(OpType::kAdd, {a, b}, {out}, AddOptions{});
    EXPECT_EQ(allocations_during_run(g, {{a, image}, {b, std::vector<uint8_t>(24, 1)}}), 0)
        << "ADD";
  }
  {
    OpGraph g;
    const int in = g.add_tensor(DataType::kUInt8, {1, 6, 6, 4}, q);
    const int out = g.add_tensor(DataType::kUInt8, {1, 3, 3, 4}, q);
    Pool2dOptions o;
    o.filter_h = o.filter_w = o.stride_h = o.stride_w = 2;
    g.set_op(OpType::kAveragePool2d, {in}, {out}, o);
    EXPECT_EQ(allocations_during_run(g, {{in, image}}), 0) << "AVERAGE_POOL_2D";
  }
  {
    OpGraph g;
    const int in = g.add_tensor(DataType::kUInt8, {1, 6, 6, 4}, q);
    const int size = g.add_constant(DataType::kInt32, {2}, std::vector<int32_t>{11, 13});
    const int out = g.add_tensor(DataType::kUInt8, {1, 11, 13, 4}, q);
    g.set_op(OpType::kResizeBilinear, {in, size}, {out}, ResizeBilinearOptions{true, false});
    EXPECT_EQ(allocations_during_run(g, {{in, image}}), 0) << "RESIZE_BILINEAR";
  }
  {
    OpGraph g;
    const int in = g.add_tensor(DataType::kUInt8, {1, 6, 6, 4}, q);
    const int out = g.add_tensor(DataType::kInt8, {1, 6, 6, 4}, per_tensor(0.3f, 1));
    g.set_op(OpType::kQuantize, {in}, {out});
    EXPECT_EQ(allocations_during_run(g, {{in, image}}), 0) << "QUANTIZE";
  }
  {
    OpGraph g;
    const int in = g.add_tensor(DataType::kUInt8, {1, 6, 6, 4}, q);
    const int out = g.add_tensor(DataType::kFloat32, {1, 6, 6, 4});
    g.set_op(OpType::kDequantize, {in}, {out});
    EXPECT_EQ(allocations_during_run(g, {{in, image}}), 0) << "DEQUANTIZE";
  }
  {
    OpGraph g;
    const int a = g.add_tensor(DataType::kUInt8, {1, 6, 6, 4}, q);
    const int b = g.add_tensor(DataType::kUInt8, {1, 6, 6, 4}, per_tensor(0.2f, 3));
    const int out = g.add_tensor(DataType::kUInt8, {1, 6, 6, 8}, q);
    g.set_op(OpType::kConcatenation, {a, b}, {out}, ConcatenationOptions{3});
    EXPECT_EQ(allocations_during_run(g, {{a, image}, {b, image}}), 0) << "CONCATENATION";
  }
  {
    OpGraph g;
    const int in = g.add_tensor(DataType::kUInt8, {1, 6, 6, 4}, q);
    const int axis = g.add_constant(DataType::kInt32, {1}, std::vector<int32_t>{-1});
    const int out = g.add_tensor(DataType::kInt64, {1, 6, 6});
    g.set_op(OpType::kArgMax, {in, axis}, {out}, ArgMaxOptions{});
    EXPECT_EQ(allocations_during_run(g, {{in, image}}), 0) << "ARG_MAX";
  }
  {
    OpGraph g;
    const int in = g.add_tensor(DataType::kUInt8, {1, 6, 6, 4}, q);
    const int out = g.add_tensor(DataType::kUInt8, {36, 4}, q);
    g.set_op(OpType::kReshape, {in}, {out});
    EXPECT_EQ(allocations_during_run(g, {{in, image}}), 0) << "RESHAPE";
  }
}

// A whole model, each variant of kernels (optimized ones include the fused resize + arg max),
// two threads: after the first invoke, invoke allocates nothing.
TEST(NoAllocationTest, InterpreterInvoke) {
  std::vector<KernelIsa> isas = available_optimized_kernel_isas();
  isas.push_back(KernelIsa::kReference);
  for (KernelIsa isa : isas) {
    for (bool fuse_blocks : {false, true}) {
      auto graph = read_tflite_file(shared_path("models/deeplabv3_mnv2_dm05_pascal_quant.tflite"));
      ASSERT_TRUE(graph.is_ok()) << graph.status().message();
      InterpreterOptions options;
      options.kernel_isa = isa;
      options.num_threads = 2;
      options.fuse_inverted_residuals = fuse_blocks;
      auto interpreter = Interpreter::create(std::move(graph).value(), options);
      ASSERT_TRUE(interpreter.is_ok()) << interpreter.status().message();
      auto input = interpreter.value()->input_bytes();
      std::fill(input.begin(), input.end(), uint8_t{90});
      interpreter.value()->invoke();
      g_allocations = 0;
      g_counting = true;
      interpreter.value()->invoke();
      g_counting = false;
      EXPECT_EQ(g_allocations.load(), 0) << kernel_isa_name(isa) << " fused " << fuse_blocks;
    }
  }
}

}  // namespace
}  // namespace qseg::test

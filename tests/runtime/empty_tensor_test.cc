// Ops whose outputs hold no elements (a 0 somewhere in the shape) are checked like any other op,
// then not run: there is nothing to write, while a kernel would still walk the other dimensions.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "qseg/interpreter.h"
#include "qseg/kernel_isa.h"

namespace qseg {
namespace {

// uint8 AVERAGE_POOL_2D over 1 x 3 x width x channels, SAME padding, a 9 x 255 window: with
// width 3538947 and 0 channels, fuzz_tflite's input that ran for over 15 s (about 2.4e10 window
// steps over nothing).
Graph pool_graph(int32_t width, int32_t channels, int32_t filter_w) {
  Graph g;
  Quantization q;
  q.scale = {0.02f};
  q.zero_point = {120};
  g.tensors.push_back({"in", DataType::kUInt8, {1, 3, width, channels}, q, {}, false});
  g.tensors.push_back({"out", DataType::kUInt8, {1, 3, width, channels}, q, {}, false});
  Pool2dOptions options;
  options.padding = Padding::kSame;
  options.filter_h = 9;
  options.filter_w = filter_w;
  g.ops.push_back({OpType::kAveragePool2d, 1, {0}, {1}, options});
  g.inputs = {0};
  g.outputs = {1};
  return g;
}

std::vector<KernelIsa> every_isa() {
  std::vector<KernelIsa> isas = available_optimized_kernel_isas();
  isas.push_back(KernelIsa::kReference);
  return isas;
}

TEST(EmptyTensors, OpsWithoutOutputElementsAreCheckedButNotRun) {
  for (KernelIsa isa : every_isa()) {
    SCOPED_TRACE(kernel_isa_name(isa));
    InterpreterOptions options;
    options.kernel_isa = isa;
    auto created = Interpreter::create(pool_graph(3538947, 0, 255), options);
    ASSERT_TRUE(created.is_ok()) << created.status().message();
    EXPECT_EQ(created.value()->kernel_variant(0), "empty");
    created.value()->invoke();  // returns at once; before, billions of steps
    EXPECT_TRUE(created.value()->output_bytes().empty());

    // Still checked: a zero-wide window is refused whether or not the op has work to do.
    auto refused = Interpreter::create(pool_graph(3538947, 0, 0), options);
    EXPECT_FALSE(refused.is_ok());

    // And an op with elements runs its kernel.
    auto normal = Interpreter::create(pool_graph(5, 2, 3), options);
    ASSERT_TRUE(normal.is_ok()) << normal.status().message();
    EXPECT_NE(normal.value()->kernel_variant(0), "empty");
  }
}

}  // namespace
}  // namespace qseg

// The one-op models fuzz_tflite starts from (fuzz/op_seeds.h) must stay valid, or the fuzzer only
// exercises the first check that refuses them: each one goes through the .tflite writer and
// reader unchanged, prepares, and gives the same bytes with the reference and optimized kernels.
#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "op_seeds.h"
#include "qseg/interpreter.h"
#include "qseg/kernel_isa.h"
#include "qseg/tflite.h"

namespace qseg {
namespace {

std::vector<uint8_t> run(const std::vector<uint8_t>& model, const std::string& name, KernelIsa isa,
                         bool fuse_blocks = false) {
  Result<Graph> graph = read_tflite(model, name);
  if (!graph.is_ok()) {
    ADD_FAILURE() << name << ": " << graph.status().message();
    return {};
  }
  InterpreterOptions options;
  options.kernel_isa = isa;
  options.fuse_inverted_residuals = fuse_blocks;
  Result<std::unique_ptr<Interpreter>> created =
      Interpreter::create(std::move(graph).value(), options);
  if (!created.is_ok()) {
    ADD_FAILURE() << name << " (" << kernel_isa_name(isa) << "): " << created.status().message();
    return {};
  }
  Interpreter& interpreter = *created.value();
  for (size_t i = 0; i < interpreter.graph().inputs.size(); ++i) {
    std::span<uint8_t> input = interpreter.input_bytes(static_cast<int>(i));
    const bool is_float = interpreter.input_tensor(static_cast<int>(i)).type == DataType::kFloat32;
    for (size_t j = 0; j < input.size(); ++j) {
      // Floats: small byte patterns in the low bytes make tiny finite values; the top byte of
      // each float stays 0x3F (values in [0.5, 2)).
      input[j] = is_float && j % 4 == 3 ? 0x3F : static_cast<uint8_t>(j * 53 + 17 * i);
    }
  }
  interpreter.invoke();
  std::span<const uint8_t> out = interpreter.output_bytes();
  return {out.begin(), out.end()};
}

TEST(FuzzOpSeeds, CoverEveryOpAndRoundTripAndRunTheSameOnEveryKernel) {
  const std::vector<fuzz::NamedGraph> seeds = fuzz::op_seed_graphs();
  std::set<OpType> ops;
  for (const fuzz::NamedGraph& seed : seeds) {
    SCOPED_TRACE(seed.name);
    for (const Op& op : seed.graph.ops) ops.insert(op.type);
    Result<std::vector<uint8_t>> bytes = write_tflite(seed.graph);
    ASSERT_TRUE(bytes.is_ok()) << bytes.status().message();
    Result<Graph> read = read_tflite(bytes.value(), seed.name);
    ASSERT_TRUE(read.is_ok()) << read.status().message();
    ASSERT_EQ(read.value().ops.size(), seed.graph.ops.size());
    for (size_t i = 0; i < seed.graph.ops.size(); ++i) {
      EXPECT_EQ(read.value().ops[i].type, seed.graph.ops[i].type);
      EXPECT_EQ(read.value().ops[i].inputs, seed.graph.ops[i].inputs);
    }
    // Options and quantization: what was read writes the same bytes again.
    Result<std::vector<uint8_t>> rewritten = write_tflite(read.value());
    ASSERT_TRUE(rewritten.is_ok()) << rewritten.status().message();
    EXPECT_EQ(rewritten.value(), bytes.value());
    ASSERT_EQ(read.value().tensors.size(), seed.graph.tensors.size());
    for (size_t i = 0; i < seed.graph.tensors.size(); ++i) {
      EXPECT_EQ(read.value().tensors[i].type, seed.graph.tensors[i].type) << "tensor " << i;
      EXPECT_EQ(read.value().tensors[i].shape, seed.graph.tensors[i].shape) << "tensor " << i;
      EXPECT_EQ(read.value().tensors[i].data, seed.graph.tensors[i].data) << "tensor " << i;
    }
    const std::vector<uint8_t> reference = run(bytes.value(), seed.name, KernelIsa::kReference);
    ASSERT_FALSE(reference.empty());
    EXPECT_EQ(run(bytes.value(), seed.name, KernelIsa::kAuto), reference);
    EXPECT_EQ(run(bytes.value(), seed.name, KernelIsa::kAuto, true), reference);
  }
  // Every op qseg runs has a seed (OpType's last enumerator is kLogistic).
  EXPECT_EQ(ops.size(), static_cast<size_t>(OpType::kLogistic) + 1);
}

// The block seeds reach the fused inverted-residual kernel (fuzz_tflite asks for it when the
// input's last byte has bit 1 set) wherever optimized kernels exist.
TEST(FuzzOpSeeds, InvertedResidualSeedsReachTheFusedKernel) {
  if (available_optimized_kernel_isas().empty()) GTEST_SKIP() << "no optimized kernels here";
  int fused = 0;
  for (const fuzz::NamedGraph& seed : fuzz::op_seed_graphs()) {
    if (seed.name.rfind("inverted_residual", 0) != 0) continue;
    SCOPED_TRACE(seed.name);
    InterpreterOptions options;
    options.fuse_inverted_residuals = true;
    auto created = Interpreter::create(seed.graph, options);
    ASSERT_TRUE(created.is_ok()) << created.status().message();
    fused += created.value()->kernel_variant(1) == "fused";
  }
  EXPECT_GE(fused, 2);  // uint8 and int8
}

}  // namespace
}  // namespace qseg

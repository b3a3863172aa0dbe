// fuzz_tflite: any bytes through the .tflite reader, the interpreter's prepare and one invoke.
#include <cstring>
#include <memory>

#include "fuzz_bodies.h"
#include "qseg/interpreter.h"
#include "qseg/tflite.h"

namespace qseg::fuzz {
namespace {

// Small bounds so that a file claiming huge tensors is refused instead of exhausting the
// fuzzer's memory (its limit is 2 GB): what is being tested is that the limits are honoured.
constexpr int64_t kMaxTensorBytes = int64_t{16} << 20;
constexpr int64_t kMaxArenaBytes = int64_t{64} << 20;
// invoke() only runs when all inputs together are this small, so one execution stays fast.
constexpr int64_t kMaxInputBytes = int64_t{64} << 10;

// A fixed, deterministic input: finite floats in [-1, 1] (a file cannot choose NaN inputs; its
// quantization parameters are what is fuzzed), and a byte ramp for every integer type.
void fill_input(std::span<uint8_t> bytes, DataType type) {
  if (type == DataType::kFloat32) {
    for (size_t i = 0; i + sizeof(float) <= bytes.size(); i += sizeof(float)) {
      const float value = static_cast<float>(static_cast<int>(i / sizeof(float) % 201) - 100) / 100;
      std::memcpy(bytes.data() + i, &value, sizeof(float));
    }
    return;
  }
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 37 + 11);
}

}  // namespace

void fuzz_tflite(std::span<const uint8_t> bytes) {
  ModelLimits limits;
  limits.max_file_bytes = int64_t{64} << 20;
  limits.max_tensor_bytes = kMaxTensorBytes;
  limits.max_tensors = 10000;
  limits.max_ops = 10000;
  Result<Graph> graph = read_tflite(bytes, "fuzz.tflite", limits);
  if (!graph.is_ok()) return;

  InterpreterOptions options;
  options.max_arena_bytes = kMaxArenaBytes;
  // The last byte picks the kernels, so both paths see every structure the corpus holds.
  const bool reference = !bytes.empty() && (bytes.back() & 1) != 0;
  options.kernel_isa = reference ? KernelIsa::kReference : KernelIsa::kAuto;
  options.fuse_inverted_residuals = !bytes.empty() && (bytes.back() & 2) != 0;
  Result<std::unique_ptr<Interpreter>> created =
      Interpreter::create(std::move(graph).value(), options);
  if (!created.is_ok()) return;
  Interpreter& interpreter = *created.value();

  int64_t input_bytes = 0;
  for (size_t i = 0; i < interpreter.graph().inputs.size(); ++i)
    input_bytes += interpreter.input_tensor(static_cast<int>(i)).byte_size();
  if (input_bytes > kMaxInputBytes) return;
  for (size_t i = 0; i < interpreter.graph().inputs.size(); ++i) {
    const int index = static_cast<int>(i);
    std::span<uint8_t> input = interpreter.input_bytes(index);
    if (!input.empty()) fill_input(input, interpreter.input_tensor(index).type);
  }
  interpreter.invoke();
}

}  // namespace qseg::fuzz

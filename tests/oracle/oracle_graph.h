// Builds small graphs for the real-TFLite tests (header only): tensors and ops added in order,
// many independent cases per model (each one output), then the model written by qseg's writer is
// run in the real TFLite and in qseg (reference and best kernels) and every output compared bit
// for bit.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "oracle_util.h"
#include "qseg/interpreter.h"
#include "qseg/kernel_isa.h"
#include "qseg/tflite.h"
#include "test_util.h"

namespace qseg::test {

inline Quantization quantization(float scale, int64_t zero_point) {
  Quantization q;
  q.scale = {scale};
  q.zero_point = {zero_point};
  return q;
}

class CaseGraph {
 public:
  // The graph input: `type`, `shape`, `quant`; activations default to the same type and quant.
  CaseGraph(DataType type, std::vector<int32_t> shape, Quantization quant)
      : type_(type), quant_(quant) {
    graph_.inputs = {tensor(type, std::move(shape), std::move(quant))};
  }

  int input() const { return graph_.inputs[0]; }
  Graph& graph() { return graph_; }

  int tensor(DataType type, std::vector<int32_t> shape, Quantization quant) {
    Tensor t;
    t.name = "t" + std::to_string(graph_.tensors.size());
    t.type = type;
    t.shape = std::move(shape);
    t.quant = std::move(quant);
    graph_.tensors.push_back(std::move(t));
    return static_cast<int>(graph_.tensors.size()) - 1;
  }
  // An activation of the input's type and quantization.
  int activation(std::vector<int32_t> shape) { return tensor(type_, std::move(shape), quant_); }

  int constant(DataType type, std::vector<int32_t> shape, std::vector<uint8_t> bytes,
               Quantization quant = {}) {
    const int t = tensor(type, std::move(shape), std::move(quant));
    graph_.tensors[t].data = std::move(bytes);
    graph_.tensors[t].is_constant = true;
    return t;
  }
  template <typename T>
  int typed_constant(DataType type, std::vector<int32_t> shape, const std::vector<T>& values,
                     Quantization quant = {}) {
    std::vector<uint8_t> bytes(values.size() * sizeof(T));
    if (!bytes.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
    return constant(type, std::move(shape), std::move(bytes), std::move(quant));
  }
  // int32 values, shape [n] unless given.
  int int_constant(const std::vector<int32_t>& values, std::vector<int32_t> shape = {}) {
    if (shape.empty()) shape = {static_cast<int32_t>(values.size())};
    return typed_constant(DataType::kInt32, std::move(shape), values);
  }
  int int64_constant(const std::vector<int32_t>& values) {
    return typed_constant(DataType::kInt64, {static_cast<int32_t>(values.size())},
                          std::vector<int64_t>(values.begin(), values.end()));
  }
  // A scalar of the input's type and quantization holding `bytes`.
  int scalar_constant(std::vector<uint8_t> bytes) {
    return constant(type_, {}, std::move(bytes), quant_);
  }

  void op(OpType type, std::vector<int32_t> inputs, std::vector<int32_t> outputs,
          OpOptions options = {}) {
    Op op;
    op.type = type;
    op.inputs = std::move(inputs);
    op.outputs = std::move(outputs);
    op.options = std::move(options);
    graph_.ops.push_back(std::move(op));
  }
  // The graph input reshaped to `shape` (RESHAPE with a constant shape, as converters write it).
  int reshaped(std::vector<int32_t> shape) {
    const int shape_tensor = int_constant(shape);
    const int out = activation(shape);
    op(OpType::kReshape, {input(), shape_tensor}, {out}, ReshapeOptions{std::move(shape)});
    return out;
  }
  void output(int t) { graph_.outputs.push_back(t); }

  // Writes the model, runs it in the real TFLite and in qseg (reference and best kernels) on
  // `input_bytes`, and expects every output byte-identical. `what` names the model in failures.
  // A positive `float_tolerance` holds float32 outputs to |qseg - tflite| <= tolerance * the
  // largest |tflite| value instead: float convolutions sum in another order than XNNPACK's.
  void expect_matches_real_tflite(const std::vector<uint8_t>& input_bytes, const std::string& what,
                                  float float_tolerance = 0.0f) {
    // One folder per process and model: ctest runs the tests as parallel processes, and
    // temp_dir empties the folder it returns.
    static int written = 0;
    const auto path =
        temp_dir("oracle_cases_" + std::to_string(::getpid()) + "_" + std::to_string(written++)) /
        "model.tflite";
    const Status status = write_tflite_file(graph_, path);
    ASSERT_TRUE(status.is_ok()) << what << ": " << status.message();
    const int outputs = static_cast<int>(graph_.outputs.size());
    auto tflite = run_real_tflite_outputs(path, input_bytes, outputs);
    ASSERT_TRUE(tflite.is_ok()) << what << ": " << tflite.status().message();
    for (const KernelIsa isa : {KernelIsa::kReference, KernelIsa::kAuto}) {
      InterpreterOptions options;
      options.kernel_isa = isa;
      auto interpreter = Interpreter::create(graph_, options);
      ASSERT_TRUE(interpreter.is_ok()) << what << ": " << interpreter.status().message();
      Interpreter& qseg = *interpreter.value();
      ASSERT_EQ(qseg.input_bytes().size(), input_bytes.size()) << what;
      std::memcpy(qseg.input_bytes().data(), input_bytes.data(), input_bytes.size());
      qseg.invoke();
      for (int k = 0; k < outputs; ++k) {
        const auto got = qseg.output_bytes(k);
        const std::vector<uint8_t>& expected = tflite.value()[k];
        ASSERT_EQ(got.size(), expected.size()) << what << " output " << k;
        if (float_tolerance > 0 && graph_.tensors[graph_.outputs[k]].type == DataType::kFloat32) {
          expect_close_floats(got, expected, float_tolerance,
                              what + " output " + std::to_string(k));
          continue;
        }
        size_t differ = 0, first = 0;
        for (size_t i = 0; i < got.size(); ++i) {
          if (got[i] != expected[i] && differ++ == 0) first = i;
        }
        EXPECT_EQ(differ, 0u) << what << " output " << k << " on " << kernel_isa_name(isa) << ": "
                              << differ << " of " << got.size() << " bytes differ, first at byte "
                              << first << " (op " << producer(graph_.outputs[k]) << ")";
      }
    }
    checked_outputs_ += outputs;
    std::filesystem::remove_all(path.parent_path());  // kept only when an ASSERT stopped early
  }

  int checked_outputs() const { return checked_outputs_; }

 private:
  static void expect_close_floats(std::span<const uint8_t> got,
                                  const std::vector<uint8_t>& expected, float tolerance,
                                  const std::string& what) {
    std::vector<float> a(got.size() / 4), b(expected.size() / 4);
    std::memcpy(a.data(), got.data(), a.size() * 4);
    std::memcpy(b.data(), expected.data(), b.size() * 4);
    float range = 0, worst = 0;
    for (float v : b) range = std::max(range, std::fabs(v));
    for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(a[i] - b[i]));
    std::printf("%s: largest |qseg - real TFLite| %g of a range of %g\n", what.c_str(), worst,
                range);
    EXPECT_LE(worst, tolerance * range)
        << what << ": largest difference " << worst << " for values up to " << range;
  }

  int producer(int tensor) const {
    for (size_t i = 0; i < graph_.ops.size(); ++i) {
      for (int32_t out : graph_.ops[i].outputs) {
        if (out == tensor) return static_cast<int>(i);
      }
    }
    return -1;
  }

  DataType type_;
  Quantization quant_;
  Graph graph_;
  int checked_outputs_ = 0;
};

}  // namespace qseg::test

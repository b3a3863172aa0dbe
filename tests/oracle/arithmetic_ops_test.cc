// MEAN, MUL, SUB, HARD_SWISH and LOGISTIC against the real TFLite (tests/oracle_util.h), in uint8,
// int8 and float32, over many random shapes, values and scales. One model holds many cases: its
// one input (random bytes) is reinterpreted by a RESHAPE per case with that case's shape, scale
// and zero point (RESHAPE copies bytes in TFLite and in qseg), the op's other operand is a random
// constant, and every case's result is a model output. Scales are drawn mostly where XNNPACK takes
// the op and partly where it does not (TFLite's built-in kernels then run), so both arithmetics
// of qseg's default requantization are checked bit for bit.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "oracle_util.h"
#include "qseg/interpreter.h"
#include "qseg/kernel_isa.h"
#include "qseg/tflite.h"
#include "test_util.h"

namespace qseg {
namespace {

constexpr int32_t kElements = 720;  // every case's input: 720 elements, in any shape

int64_t count(const std::vector<int32_t>& shape) {
  int64_t n = 1;
  for (int32_t d : shape) n *= d;
  return n;
}

// Builds one model of many cases of one data type.
class CaseModel {
 public:
  CaseModel(DataType type, uint32_t seed) : type_(type), rng_(seed) {
    Tensor in;
    in.name = "input";
    in.type = type;
    in.shape = {kElements};
    if (type != DataType::kFloat32) in.quant = quantization(0.1f, qmin());
    graph_.tensors.push_back(in);
    graph_.inputs = {0};
  }

  int32_t qmin() const { return type_ == DataType::kInt8 ? -128 : 0; }
  bool quantized() const { return type_ != DataType::kFloat32; }
  std::mt19937& rng() { return rng_; }

  // A random shape of rank 4 holding kElements elements.
  std::vector<int32_t> random_shape() {
    static const std::vector<std::vector<int32_t>> shapes = {
        {1, 6, 10, 12}, {1, 12, 12, 5}, {2, 3, 8, 15},  {1, 9, 5, 16}, {1, 1, 1, 720},
        {1, 20, 36, 1}, {3, 4, 6, 10},  {1, 15, 16, 3}, {1, 8, 9, 10}, {1, 2, 45, 8}};
    return shapes[std::uniform_int_distribution<size_t>(0, shapes.size() - 1)(rng_)];
  }
  float log_uniform(float lo, float hi) {
    return std::exp(std::uniform_real_distribution<float>(std::log(lo), std::log(hi))(rng_));
  }
  int32_t zero_point() { return qmin() + std::uniform_int_distribution<int32_t>(0, 255)(rng_); }

  // The input's bytes as a tensor of `shape` (kElements elements) with its own quantization.
  int reshaped_input(const std::vector<int32_t>& shape, float scale, int32_t zero_point) {
    const int shape_tensor = constant_int32({static_cast<int32_t>(shape.size())}, shape);
    const int out = activation(shape, scale, zero_point);
    ReshapeOptions options;
    options.new_shape = shape;
    graph_.ops.push_back(Op{OpType::kReshape, 1, {0, shape_tensor}, {out}, options});
    return out;
  }
  int activation(const std::vector<int32_t>& shape, float scale, int32_t zero_point) {
    Tensor t;
    t.name = "t" + std::to_string(graph_.tensors.size());
    t.type = type_;
    t.shape = shape;
    if (quantized()) t.quant = quantization(scale, zero_point);
    graph_.tensors.push_back(t);
    return static_cast<int>(graph_.tensors.size()) - 1;
  }
  // Random values: every 8-bit code, or floats in [-4, 4].
  int random_constant(const std::vector<int32_t>& shape, float scale, int32_t zero_point) {
    const int t = activation(shape, scale, zero_point);
    Tensor& tensor = graph_.tensors[t];
    tensor.is_constant = true;
    tensor.data.resize(tensor.byte_size());
    if (quantized()) {
      for (uint8_t& b : tensor.data) b = static_cast<uint8_t>(rng_());
    } else {
      std::vector<float> v(count(shape));
      for (float& x : v) x = std::uniform_real_distribution<float>(-4.0f, 4.0f)(rng_);
      std::memcpy(tensor.data.data(), v.data(), tensor.data.size());
    }
    return t;
  }
  int constant_int32(const std::vector<int32_t>& shape, const std::vector<int32_t>& values) {
    Tensor t;
    t.name = "c" + std::to_string(graph_.tensors.size());
    t.type = DataType::kInt32;
    t.shape = shape;
    t.is_constant = true;
    t.data.resize(values.size() * 4);
    if (!values.empty()) std::memcpy(t.data.data(), values.data(), t.data.size());
    graph_.tensors.push_back(t);
    return static_cast<int>(graph_.tensors.size()) - 1;
  }
  void op(OpType type, std::vector<int32_t> inputs, int output, OpOptions options,
          std::string what) {
    graph_.ops.push_back(Op{type, 1, std::move(inputs), {output}, std::move(options)});
    graph_.outputs.push_back(output);
    cases_.push_back(std::move(what));
  }

  const Graph& graph() const { return graph_; }
  const std::vector<std::string>& cases() const { return cases_; }

  // Random input bytes: every 8-bit code, or floats in [-6, 6].
  std::vector<uint8_t> random_input() {
    std::vector<uint8_t> bytes(kElements * data_type_size(type_));
    if (quantized()) {
      for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng_());
    } else {
      std::vector<float> v(kElements);
      for (float& x : v) x = std::uniform_real_distribution<float>(-6.0f, 6.0f)(rng_);
      std::memcpy(bytes.data(), v.data(), bytes.size());
    }
    return bytes;
  }

 private:
  static Quantization quantization(float scale, int32_t zero_point) {
    Quantization q;
    q.scale = {scale};
    q.zero_point = {zero_point};
    return q;
  }

  DataType type_;
  std::mt19937 rng_;
  Graph graph_;
  std::vector<std::string> cases_;
};

std::string type_label(DataType type) { return std::string(data_type_name(type)); }

// Runs the model in the real TFLite and in qseg (default requantization, every kernel set) on two
// random inputs, and expects every case's output to be the same bytes.
void expect_matches_real_tflite(CaseModel& model, const std::string& name) {
  // One folder per model: ctest runs these tests as parallel processes, and temp_dir empties the
  // folder it returns.
  const auto path = test::temp_dir("oracle_arithmetic_" + name) / "model.tflite";
  const Status written = write_tflite_file(model.graph(), path);
  ASSERT_TRUE(written.is_ok()) << written.message();
  const int outputs = static_cast<int>(model.graph().outputs.size());
  std::vector<KernelIsa> isas = available_optimized_kernel_isas();
  isas.push_back(KernelIsa::kReference);
  for (int run = 0; run < 2; ++run) {
    const std::vector<uint8_t> input = model.random_input();
    auto tflite = test::run_real_tflite_outputs(path, input, outputs);
    ASSERT_TRUE(tflite.is_ok()) << tflite.status().message();
    for (const KernelIsa isa : isas) {
      InterpreterOptions options;
      options.kernel_isa = isa;
      auto interpreter = Interpreter::create(model.graph(), options);
      ASSERT_TRUE(interpreter.is_ok()) << interpreter.status().message();
      std::memcpy(interpreter.value()->input_bytes().data(), input.data(), input.size());
      interpreter.value()->invoke();
      for (int k = 0; k < outputs; ++k) {
        const auto got = interpreter.value()->output_bytes(k);
        const std::vector<uint8_t>& want = tflite.value()[k];
        ASSERT_EQ(got.size(), want.size()) << model.cases()[k];
        size_t differ = 0;
        for (size_t i = 0; i < want.size(); ++i) differ += got[i] != want[i];
        EXPECT_EQ(differ, 0u) << name << " " << model.cases()[k] << " on " << kernel_isa_name(isa)
                              << ": " << differ << " of " << want.size() << " bytes differ";
      }
    }
  }
}

// A broadcast partner of `shape`: some dims set to 1, sometimes leading dims dropped.
std::vector<int32_t> broadcast_partner(const std::vector<int32_t>& shape, std::mt19937& rng) {
  std::vector<int32_t> partner = shape;
  const int kind = std::uniform_int_distribution<int>(0, 4)(rng);
  if (kind == 0) return partner;                     // same shape
  if (kind == 1) return {1, 1, 1, shape[3]};         // per channel (squeeze-excite)
  if (kind == 2) return {shape[3]};                  // rank 1
  if (kind == 3) return {1};                         // scalar-like
  for (int32_t& d : partner) d = rng() % 2 ? 1 : d;  // random dims of 1
  return partner;
}

const Activation kActivations[] = {Activation::kNone, Activation::kRelu, Activation::kRelu6,
                                   Activation::kReluN1To1};

template <typename Options>
void binary_cases(OpType type, DataType data_type, uint32_t seed, const std::string& name) {
  CaseModel m(data_type, seed);
  for (int c = 0; c < 36; ++c) {
    const std::vector<int32_t> shape = m.random_shape();
    const std::vector<int32_t> partner = broadcast_partner(shape, m.rng());
    const float s1 = m.log_uniform(0.002f, 0.5f), s2 = m.log_uniform(0.002f, 0.5f);
    // Mostly where XNNPACK takes the scales; one case in six far outside.
    float out_scale = type == OpType::kMul ? s1 * s2 * m.log_uniform(0.05f, 20.0f)
                                           : std::max(s1, s2) * m.log_uniform(0.2f, 8.0f);
    if (c % 6 == 5) out_scale = type == OpType::kMul ? s1 * s2 / 600.0f : s1 / 2000.0f;
    const int32_t zp1 = m.zero_point(), zp2 = m.zero_point(), out_zp = m.zero_point();
    const Activation activation = kActivations[c % 4];
    const int a = m.reshaped_input(shape, s1, zp1);
    const int b = m.random_constant(partner, s2, zp2);
    const bool swap = c % 3 == 1;  // the broadcast operand first
    const int out = m.activation(shape, out_scale, out_zp);
    std::vector<int32_t> inputs = swap ? std::vector<int32_t>{b, a} : std::vector<int32_t>{a, b};
    m.op(type, inputs, out, Options{activation},
         "case " + std::to_string(c) + " " + testing::PrintToString(shape) + " x " +
             testing::PrintToString(partner) + (swap ? " swapped" : "") + " scales " +
             std::to_string(s1) + "," + std::to_string(s2) + "->" + std::to_string(out_scale) +
             " act " + std::to_string(static_cast<int>(activation)));
  }
  // Both operands the same activation (x * x, x - x).
  const std::vector<int32_t> shape = m.random_shape();
  const int a = m.reshaped_input(shape, 0.03f, m.zero_point());
  const int out = m.activation(shape, 0.02f, m.zero_point());
  m.op(type, {a, a}, out, Options{}, "x op x");
  expect_matches_real_tflite(m, name + "_" + type_label(data_type));
}

TEST(RealTfliteArithmetic, MulMatchesOnRandomShapesScalesAndBroadcasts) {
  uint32_t seed = 1;
  for (DataType type : {DataType::kUInt8, DataType::kInt8, DataType::kFloat32})
    binary_cases<MulOptions>(OpType::kMul, type, seed++, "mul");
}

TEST(RealTfliteArithmetic, SubMatchesOnRandomShapesScalesAndBroadcasts) {
  uint32_t seed = 11;
  for (DataType type : {DataType::kUInt8, DataType::kInt8, DataType::kFloat32})
    binary_cases<SubOptions>(OpType::kSub, type, seed++, "sub");
}

TEST(RealTfliteArithmetic, MeanMatchesOverEveryAxisSet) {
  const std::vector<std::vector<int32_t>> axis_sets = {
      {1, 2}, {2, 1}, {2}, {-2, -3}, {1}, {3}, {-1}, {0}, {1, 3}, {1, 2, 3}, {0, 1, 2, 3}, {0, 2}};
  uint32_t seed = 21;
  for (DataType type : {DataType::kUInt8, DataType::kInt8, DataType::kFloat32}) {
    CaseModel m(type, seed++);
    for (int c = 0; c < 40; ++c) {
      const std::vector<int32_t> shape = m.random_shape();
      const std::vector<int32_t>& axes = axis_sets[c % axis_sets.size()];
      const bool keep_dims = c % 5 != 1;
      const float in_scale = m.log_uniform(0.005f, 0.5f);
      // Mostly a nearby output scale; every seventh case the same quantization in and out, every
      // eleventh a ratio outside XNNPACK's range.
      float out_scale = in_scale * m.log_uniform(0.25f, 4.0f);
      int32_t in_zp = m.zero_point(), out_zp = m.zero_point();
      if (c % 7 == 3) {
        out_scale = in_scale;
        out_zp = in_zp;
      }
      if (c % 11 == 6) out_scale = in_scale / 300.0f;
      const int in = m.reshaped_input(shape, in_scale, in_zp);
      std::vector<int32_t> out_shape;
      for (int d = 0; d < 4; ++d) {
        bool reduced = false;
        for (int32_t a : axes) reduced |= (a < 0 ? a + 4 : a) == d;
        if (!reduced) out_shape.push_back(shape[d]);
        if (reduced && keep_dims) out_shape.push_back(1);
      }
      const int axes_tensor = m.constant_int32({static_cast<int32_t>(axes.size())}, axes);
      const int out = m.activation(out_shape, out_scale, out_zp);
      m.op(OpType::kMean, {in, axes_tensor}, out, MeanOptions{keep_dims},
           "case " + std::to_string(c) + " " + testing::PrintToString(shape) + " axes " +
               testing::PrintToString(axes) + (keep_dims ? " keep_dims" : "") + " scales " +
               std::to_string(in_scale) + "->" + std::to_string(out_scale));
    }
    expect_matches_real_tflite(m, "mean_" + type_label(type));
  }
}

TEST(RealTfliteArithmetic, HardSwishMatchesOnRandomScales) {
  uint32_t seed = 31;
  for (DataType type : {DataType::kUInt8, DataType::kInt8, DataType::kFloat32}) {
    CaseModel m(type, seed++);
    for (int c = 0; c < 40; ++c) {
      const std::vector<int32_t> shape = m.random_shape();
      const float in_scale = m.log_uniform(0.002f, 0.3f);
      const float out_scale = in_scale * m.log_uniform(0.1f, 3.0f);
      const int in = m.reshaped_input(shape, in_scale, m.zero_point());
      const int out = m.activation(shape, out_scale, m.zero_point());
      m.op(OpType::kHardSwish, {in}, out, {},
           "case " + std::to_string(c) + " scales " + std::to_string(in_scale) + "->" +
               std::to_string(out_scale));
    }
    expect_matches_real_tflite(m, "hard_swish_" + type_label(type));
  }
}

TEST(RealTfliteArithmetic, LogisticMatchesOnRandomScales) {
  uint32_t seed = 41;
  for (DataType type : {DataType::kUInt8, DataType::kInt8, DataType::kFloat32}) {
    CaseModel m(type, seed++);
    for (int c = 0; c < 40; ++c) {
      const std::vector<int32_t> shape = m.random_shape();
      const float in_scale = m.log_uniform(0.002f, 0.5f);
      const int in = m.reshaped_input(shape, in_scale, m.zero_point());
      const int out = m.activation(shape, 1.0f / 256, m.qmin());
      m.op(OpType::kLogistic, {in}, out, {},
           "case " + std::to_string(c) + " scale " + std::to_string(in_scale));
    }
    expect_matches_real_tflite(m, "logistic_" + type_label(type));
  }
}

}  // namespace
}  // namespace qseg

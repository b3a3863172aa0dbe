// MEAN kernels (uint8, int8, float32) against double math over every axis set of 4-D inputs (and
// other ranks), with and without keep_dims, in both requantizations; and the prepare-time errors.
#include <gtest/gtest.h>

#include "kernel_test_util.h"

namespace qseg::test {
namespace {

struct MeanCase {
  std::vector<int32_t> shape = {1, 5, 7, 3};
  std::vector<int32_t> axes = {1, 2};
  bool keep_dims = true;
  float scale = 0.05f, out_scale = 0.03f;
  int zp = 128, out_zp = 100;  // uint8 encoding (int8 cases subtract 128)
};

std::ostream& operator<<(std::ostream& os, const MeanCase& c) {
  return os << testing::PrintToString(c.shape) << " axes " << testing::PrintToString(c.axes)
            << (c.keep_dims ? " keep_dims" : "") << " scales " << c.scale << "->" << c.out_scale
            << " zps " << c.zp << "->" << c.out_zp;
}

// The reduced flags, the output shape and, per output element, the input elements it averages.
std::vector<int32_t> mean_geometry(const MeanCase& c, std::vector<std::vector<int64_t>>* members) {
  const int rank = static_cast<int>(c.shape.size());
  std::vector<bool> reduced(rank, false);
  for (int32_t a : c.axes) reduced[a < 0 ? a + rank : a] = true;
  std::vector<int32_t> out_shape, kept;
  for (int d = 0; d < rank; ++d) {
    if (!reduced[d]) out_shape.push_back(c.shape[d]), kept.push_back(c.shape[d]);
    if (reduced[d] && c.keep_dims) out_shape.push_back(1);
  }
  members->assign(static_cast<size_t>(element_count(kept)), {});
  for (int64_t i = 0; i < element_count(c.shape); ++i) {
    int64_t rest = i, o = 0, stride = 1;
    for (int d = rank; d-- > 0;) {
      const int64_t coord = rest % c.shape[d];
      rest /= c.shape[d];
      if (!reduced[d]) {
        o += coord * stride;
        stride *= c.shape[d];
      }
    }
    (*members)[o].push_back(i);
  }
  return out_shape;
}

template <typename T>
void check_quantized(const MeanCase& c, DataType type, int offset) {
  std::mt19937 rng(7);
  const int qmin = offset, qmax = offset + 255;
  const int zp = c.zp + offset, out_zp = c.out_zp + offset;
  const auto a = random_ints<T>(element_count(c.shape), qmin, qmax, rng);
  std::vector<std::vector<int64_t>> members;
  const std::vector<int32_t> out_shape = mean_geometry(c, &members);
  std::vector<int32_t> expected;
  for (const auto& m : members) {
    double sum = 0;
    for (int64_t i : m) sum += double{c.scale} * (a[i] - zp);
    expected.push_back(quantize_double(sum / m.size(), c.out_scale, out_zp, qmin, qmax));
  }
  OpGraph g;
  const int x = g.add_tensor(type, c.shape, per_tensor(c.scale, zp));
  const int axes = g.add_constant(DataType::kInt32, {static_cast<int32_t>(c.axes.size())}, c.axes);
  const int out = g.add_tensor(type, out_shape, per_tensor(c.out_scale, out_zp));
  g.set_op(OpType::kMean, {x, axes}, {out}, MeanOptions{c.keep_dims});
  for (const Requantization r : {Requantization::kXnnpack, Requantization::kFixedPoint}) {
    KernelOptions options;
    options.requantization = r;
    g.set_kernel_options(options);
    const auto actual = g.run({{x, to_bytes(a)}}, 2);
    // Within one step. TFLite's built-in kernels truncate (same quantization in and out) or
    // round the zero point's share apart (uint8 over H and W), so any value may be one off;
    // XNNPACK rounds the mean once, in float.
    const bool rounds_once =
        r == Requantization::kXnnpack && c.shape.size() == 4 &&
        (c.axes == std::vector<int32_t>{1, 2} || c.axes == std::vector<int32_t>{2});
    expect_close_quantized(from_bytes<T>(actual), expected, 1,
                           rounds_once ? few(expected.size()) : expected.size(),
                           std::string(requantization_name(r)));
  }
}

std::vector<MeanCase> cases() {
  std::vector<MeanCase> all;
  auto add = [&](auto f) {
    MeanCase c;
    f(c);
    all.push_back(c);
  };
  add([](MeanCase&) {});
  add([](MeanCase& c) { c.shape = {1, 17, 13, 40}; });  // squeeze-excite's pool
  add([](MeanCase& c) { c.axes = {2}; });
  add([](MeanCase& c) {
    c.axes = {-1};
    c.keep_dims = false;
  });
  add([](MeanCase& c) { c.axes = {1}; });
  add([](MeanCase& c) {
    c.axes = {3, 1};
    c.keep_dims = false;
  });
  add([](MeanCase& c) { c.axes = {0, 1, 2, 3}; });
  add([](MeanCase& c) {
    c.axes = {1, 2, 3};
    c.keep_dims = false;
  });
  add([](MeanCase& c) { c.axes = {2, 2, -2}; });  // repeats count once
  add([](MeanCase& c) {
    c.shape = {2, 3, 4, 5};
    c.axes = {0, 2};
  });
  add([](MeanCase& c) {
    c.out_scale = c.scale;
    c.out_zp = c.zp;
  });                                               // same quantization
  add([](MeanCase& c) { c.out_scale = 0.0001f; });  // XNNPACK refuses: built-in
  add([](MeanCase& c) {
    c.zp = 0;
    c.out_zp = 255;
    c.out_scale = 0.01f;
  });  // saturates
  add([](MeanCase& c) {
    c.shape = {6, 10};
    c.axes = {1};
  });
  add([](MeanCase& c) {
    c.shape = {2, 3, 4, 5, 6};
    c.axes = {1, 3};
  });
  add([](MeanCase& c) { c.axes = {}; });  // nothing reduced: a requantizing copy
  return all;
}

class MeanQuantizedTest : public ::testing::TestWithParam<MeanCase> {};

TEST_P(MeanQuantizedTest, Uint8MatchesDoubleMath) {
  check_quantized<uint8_t>(GetParam(), DataType::kUInt8, 0);
}
TEST_P(MeanQuantizedTest, Int8MatchesDoubleMath) {
  check_quantized<int8_t>(GetParam(), DataType::kInt8, -128);
}
TEST_P(MeanQuantizedTest, FloatMatchesDoubleMath) {
  const MeanCase c = GetParam();
  std::mt19937 rng(3);
  const auto a = random_floats(element_count(c.shape), -8, 8, rng);
  std::vector<std::vector<int64_t>> members;
  const std::vector<int32_t> out_shape = mean_geometry(c, &members);
  OpGraph g;
  const int x = g.add_tensor(DataType::kFloat32, c.shape);
  const int axes = g.add_constant(DataType::kInt32, {static_cast<int32_t>(c.axes.size())}, c.axes);
  const int out = g.add_tensor(DataType::kFloat32, out_shape);
  g.set_op(OpType::kMean, {x, axes}, {out}, MeanOptions{c.keep_dims});
  const auto actual = from_bytes<float>(g.run({{x, to_bytes(a)}}, 3));
  ASSERT_EQ(actual.size(), members.size());
  for (size_t o = 0; o < members.size(); ++o) {
    double sum = 0;
    for (int64_t i : members[o]) sum += a[i];
    ASSERT_NEAR(actual[o], sum / members[o].size(), 1e-5) << "element " << o;
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, MeanQuantizedTest, ::testing::ValuesIn(cases()));

// Worked by hand: the mean of 10, 20, 30, 40 (zero point 10, scale 0.5) is 7.5; on scale 0.25
// with zero point 2 that is 32.
TEST(MeanTest, Uint8HandComputed) {
  for (const Requantization r : {Requantization::kXnnpack, Requantization::kFixedPoint}) {
    OpGraph g;
    const int x = g.add_tensor(DataType::kUInt8, {1, 2, 2, 1}, per_tensor(0.5f, 10));
    const int axes = g.add_constant(DataType::kInt32, {2}, std::vector<int32_t>{1, 2});
    const int out = g.add_tensor(DataType::kUInt8, {1, 1, 1, 1}, per_tensor(0.25f, 2));
    g.set_op(OpType::kMean, {x, axes}, {out}, MeanOptions{true});
    KernelOptions options;
    options.requantization = r;
    g.set_kernel_options(options);
    EXPECT_EQ(g.run({{x, {10, 20, 30, 40}}}), (std::vector<uint8_t>{32})) << requantization_name(r);
  }
}

TEST(MeanErrorTest, Errors) {
  OpGraph g;
  const int x = g.add_tensor(DataType::kUInt8, {1, 4, 4, 3}, per_tensor(0.5f, 10));
  const int axes = g.add_constant(DataType::kInt32, {2}, std::vector<int32_t>{1, 2});
  const int out = g.add_tensor(DataType::kUInt8, {1, 1, 1, 3}, per_tensor(0.125f, 3));
  g.set_op(OpType::kMean, {x, axes}, {out}, MeanOptions{true});
  EXPECT_EQ(g.create_error(), "");
  g.op().options = MeanOptions{false};
  EXPECT_EQ(g.create_error(),
            "op 0 (MEAN): output shape [1,1,1,3] does not match the computed shape [1,3]");
  g.op().options = MeanOptions{true};
  g.tensor(axes).data = to_bytes(std::vector<int32_t>{1, 4});
  EXPECT_EQ(g.create_error(), "op 0 (MEAN): axis 4 is out of range for rank 4");
  g.tensor(axes).data = to_bytes(std::vector<int32_t>{1, -5});
  EXPECT_EQ(g.create_error(), "op 0 (MEAN): axis -5 is out of range for rank 4");
  g.tensor(axes).data = to_bytes(std::vector<int32_t>{1, 2});
  g.tensor(axes).is_constant = false;
  EXPECT_EQ(g.create_error(), "op 0 (MEAN): axes must be a constant tensor");
  g.tensor(axes).is_constant = true;
  g.tensor(axes).type = DataType::kFloat32;
  EXPECT_EQ(g.create_error(), "op 0 (MEAN): axes must be int32, got float32");
  g.tensor(axes).type = DataType::kInt32;
  g.tensor(axes).shape = {1, 2};
  EXPECT_EQ(g.create_error(), "op 0 (MEAN): axes must be a scalar or 1-D, got shape [1,2]");
  g.tensor(axes).shape = {2};
  g.tensor(out).type = DataType::kInt8;
  EXPECT_EQ(g.create_error(), "op 0 (MEAN): output must be uint8 like the input, got int8");
  g.tensor(out).type = DataType::kUInt8;
  g.op().inputs = {x};
  EXPECT_EQ(g.create_error(), "op 0 (MEAN): expected 2 inputs, got 1");
  g.op().inputs = {x, axes};
  g.tensor(x).shape = {1, 0, 4, 3};
  EXPECT_EQ(g.create_error(),
            "op 0 (MEAN): reduces over an empty dimension of input shape [1,0,4,3]");
  g.tensor(x).shape = {1, 1, 1, 1, 1, 1, 4, 3};
  EXPECT_EQ(g.create_error(), "op 0 (MEAN): input rank 8 is above 6");
}

}  // namespace
}  // namespace qseg::test

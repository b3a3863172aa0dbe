// DEPTHWISE_CONV_2D kernels (uint8, int8 per-channel, float32) against double-precision math,
// with depth multipliers, dilation, strides, extreme zero points, saturation, and errors.
#include <gtest/gtest.h>

#include "kernel_test_util.h"

namespace qseg::test {
namespace {

struct DwCase {
  int batch = 1, in_h = 6, in_w = 6, in_c = 3, multiplier = 1, kh = 3, kw = 3;
  int stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  Padding padding = Padding::kSame;
  Activation activation = Activation::kNone;
  bool bias = true;
  int input_zero_point = 128, weights_zero_point = 128;  // uint8 encoding
  double range_factor = 1.0;
  uint32_t seed = 1;
  int out_c() const { return in_c * multiplier; }
};

std::ostream& operator<<(std::ostream& os, const DwCase& c) {
  return os << c.batch << "x" << c.in_h << "x" << c.in_w << "x" << c.in_c << " m" << c.multiplier
            << " k" << c.kh << "x" << c.kw << " s" << c.stride_h << "," << c.stride_w << " d"
            << c.dilation_h << "," << c.dilation_w
            << (c.padding == Padding::kSame ? " SAME" : " VALID") << " zp " << c.input_zero_point
            << "/" << c.weights_zero_point << " range " << c.range_factor;
}

DepthwiseConv2dOptions options_of(const DwCase& c) {
  DepthwiseConv2dOptions o;
  o.padding = c.padding;
  o.stride_h = c.stride_h;
  o.stride_w = c.stride_w;
  o.dilation_h = c.dilation_h;
  o.dilation_w = c.dilation_w;
  o.depth_multiplier = c.multiplier;
  o.activation = c.activation;
  return o;
}

// Real depthwise convolution: output channel ic * multiplier + m filters input channel ic.
std::vector<double> reference_depthwise(const DwCase& c, const std::vector<double>& x,
                                        const std::vector<double>& w, const std::vector<double>& b,
                                        int* out_h, int* out_w) {
  const Axis ay = axis_geometry(c.padding, c.in_h, c.kh, c.stride_h, c.dilation_h);
  const Axis ax = axis_geometry(c.padding, c.in_w, c.kw, c.stride_w, c.dilation_w);
  *out_h = ay.out;
  *out_w = ax.out;
  const int oc_count = c.out_c();
  std::vector<double> y(static_cast<size_t>(c.batch) * ay.out * ax.out * oc_count);
  for (int n = 0; n < c.batch; ++n)
    for (int oy = 0; oy < ay.out; ++oy)
      for (int ox = 0; ox < ax.out; ++ox)
        for (int oc = 0; oc < oc_count; ++oc) {
          const int ic = oc / c.multiplier;
          double sum = b.empty() ? 0.0 : b[oc];
          for (int ky = 0; ky < c.kh; ++ky)
            for (int kx = 0; kx < c.kw; ++kx) {
              const int iy = oy * c.stride_h - ay.pad + ky * c.dilation_h;
              const int ix = ox * c.stride_w - ax.pad + kx * c.dilation_w;
              if (iy < 0 || iy >= c.in_h || ix < 0 || ix >= c.in_w) continue;
              sum += x[((n * c.in_h + iy) * c.in_w + ix) * c.in_c + ic] *
                     w[(ky * c.kw + kx) * oc_count + oc];
            }
          y[((n * ay.out + oy) * ax.out + ox) * oc_count + oc] = activate(sum, c.activation);
        }
  return y;
}

std::pair<float, int> fit_output(const std::vector<double>& y, double factor, int qmin, int qmax) {
  const double lo = std::min(0.0, *std::min_element(y.begin(), y.end()));
  const double hi = std::max(0.0, *std::max_element(y.begin(), y.end()));
  const double scale = std::max((hi - lo) / (qmax - qmin), 1e-3) * factor;
  const int zp = std::clamp(static_cast<int>(std::lround(qmin - lo / scale)), qmin, qmax);
  return {static_cast<float>(scale), zp};
}

std::vector<DwCase> cases() {
  std::vector<DwCase> all;
  auto add = [&](auto f) {
    DwCase c;
    c.seed = static_cast<uint32_t>(all.size() + 11);
    f(c);
    all.push_back(c);
  };
  add([](DwCase& c) {
    c.in_h = c.in_w = 1;
    c.in_c = 1;
    c.kh = c.kw = 1;
  });
  add([](DwCase& c) {
    c.in_h = c.in_w = 1;
    c.in_c = 7;
    c.multiplier = 2;
  });
  add([](DwCase& c) {
    c.in_h = 7;
    c.in_w = 9;
    c.in_c = 17;
    c.activation = Activation::kRelu6;
  });
  add([](DwCase& c) {
    c.in_h = 9;
    c.in_w = 8;
    c.in_c = 8;
    c.stride_h = c.stride_w = 2;
    c.activation = Activation::kRelu;
  });
  add([](DwCase& c) {
    c.in_h = 11;
    c.in_w = 12;
    c.in_c = 5;
    c.dilation_h = c.dilation_w = 2;
  });
  add([](DwCase& c) {
    c.in_h = 11;
    c.in_w = 10;
    c.in_c = 3;
    c.dilation_h = 2;
    c.dilation_w = 2;
    c.padding = Padding::kValid;
  });
  add([](DwCase& c) {
    c.in_c = 3;
    c.multiplier = 2;
    c.stride_h = 2;
    c.padding = Padding::kValid;
  });
  add([](DwCase& c) {
    c.in_c = 2;
    c.multiplier = 3;
    c.kh = 2;
    c.kw = 5;
  });
  add([](DwCase& c) {
    c.input_zero_point = 0;
    c.weights_zero_point = 255;
  });
  add([](DwCase& c) {
    c.input_zero_point = 255;
    c.weights_zero_point = 0;
    c.in_c = 16;
  });
  add([](DwCase& c) {
    c.in_c = 16;
    c.range_factor = 0.25;
  });
  add([](DwCase& c) {
    c.batch = 3;
    c.in_h = 4;
    c.in_w = 5;
    c.bias = false;
    c.in_c = 4;
  });
  add([](DwCase& c) { c.activation = Activation::kReluN1To1; });
  return all;
}

const int kThreads[] = {1, 4};

class DepthwiseUint8Test : public ::testing::TestWithParam<DwCase> {};

TEST_P(DepthwiseUint8Test, MatchesDoubleMath) {
  const DwCase c = GetParam();
  std::mt19937 rng(c.seed);
  const float in_scale = 0.05f, w_scale = 0.01f;
  const auto x = random_ints<uint8_t>(size_t(c.batch) * c.in_h * c.in_w * c.in_c, 0, 255, rng);
  const auto w = random_ints<uint8_t>(size_t(c.kh) * c.kw * c.out_c(), 0, 255, rng);
  const auto b = random_ints<int32_t>(c.out_c(), -3000, 3000, rng);
  std::vector<double> xr(x.size()), wr(w.size()), br;
  for (size_t i = 0; i < x.size(); ++i) xr[i] = double{in_scale} * (x[i] - c.input_zero_point);
  for (size_t i = 0; i < w.size(); ++i) wr[i] = double{w_scale} * (w[i] - c.weights_zero_point);
  if (c.bias)
    for (int32_t v : b) br.push_back(double{in_scale} * w_scale * v);
  int out_h = 0, out_w = 0;
  const auto y = reference_depthwise(c, xr, wr, br, &out_h, &out_w);
  const auto [out_scale, out_zp] = fit_output(y, c.range_factor, 0, 255);
  std::vector<int32_t> expected(y.size());
  int clamped = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    expected[i] = quantize_double(y[i], out_scale, out_zp, 0, 255);
    clamped += expected[i] == 0 || expected[i] == 255;
  }
  if (c.range_factor < 1) {
    EXPECT_GT(clamped, 0);
  }

  OpGraph g;
  const int in = g.add_tensor(DataType::kUInt8, {c.batch, c.in_h, c.in_w, c.in_c},
                              per_tensor(in_scale, c.input_zero_point));
  const int wt = g.add_constant(DataType::kUInt8, {1, c.kh, c.kw, c.out_c()}, w,
                                per_tensor(w_scale, c.weights_zero_point));
  const int bt = c.bias ? g.add_constant(DataType::kInt32, {c.out_c()}, b) : kNoTensor;
  const int out = g.add_tensor(DataType::kUInt8, {c.batch, out_h, out_w, c.out_c()},
                               per_tensor(out_scale, out_zp));
  g.set_op(OpType::kDepthwiseConv2d, {in, wt, bt}, {out}, options_of(c));
  std::vector<uint8_t> first;
  for (int threads : kThreads) {
    const auto actual = g.run({{in, x}}, threads);
    expect_close_quantized(
        actual, expected, 1,
        double_rounding_allowance(expected.size(), double{in_scale} * w_scale / out_scale),
        "uint8 depthwise");
    if (first.empty()) first = actual;
    EXPECT_EQ(actual, first) << "results differ between thread counts";
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, DepthwiseUint8Test, ::testing::ValuesIn(cases()));

class DepthwiseInt8Test : public ::testing::TestWithParam<DwCase> {};

TEST_P(DepthwiseInt8Test, MatchesDoubleMathPerChannel) {
  const DwCase c = GetParam();
  std::mt19937 rng(c.seed + 50);
  const float in_scale = 0.05f;
  const int in_zp = c.input_zero_point - 128;
  std::vector<float> w_scales(c.out_c());
  std::uniform_real_distribution<float> log_scale(std::log(0.001f), std::log(0.1f));
  for (float& s : w_scales) s = std::exp(log_scale(rng));
  const auto x = random_ints<int8_t>(size_t(c.batch) * c.in_h * c.in_w * c.in_c, -128, 127, rng);
  const auto w = random_ints<int8_t>(size_t(c.kh) * c.kw * c.out_c(), -127, 127, rng);
  const auto b = random_ints<int32_t>(c.out_c(), -3000, 3000, rng);
  std::vector<double> xr(x.size()), wr(w.size()), br;
  for (size_t i = 0; i < x.size(); ++i) xr[i] = double{in_scale} * (x[i] - in_zp);
  for (size_t i = 0; i < w.size(); ++i) wr[i] = double{w_scales[i % c.out_c()]} * w[i];
  if (c.bias)
    for (int oc = 0; oc < c.out_c(); ++oc) br.push_back(double{in_scale} * w_scales[oc] * b[oc]);
  int out_h = 0, out_w = 0;
  const auto y = reference_depthwise(c, xr, wr, br, &out_h, &out_w);
  const auto [out_scale, out_zp] = fit_output(y, c.range_factor, -128, 127);
  std::vector<int32_t> expected(y.size());
  for (size_t i = 0; i < y.size(); ++i)
    expected[i] = quantize_double(y[i], out_scale, out_zp, -128, 127);

  OpGraph g;
  const int in =
      g.add_tensor(DataType::kInt8, {c.batch, c.in_h, c.in_w, c.in_c}, per_tensor(in_scale, in_zp));
  const int wt =
      g.add_constant(DataType::kInt8, {1, c.kh, c.kw, c.out_c()}, w, per_channel(w_scales, 3));
  const int bt = c.bias ? g.add_constant(DataType::kInt32, {c.out_c()}, b) : kNoTensor;
  const int out = g.add_tensor(DataType::kInt8, {c.batch, out_h, out_w, c.out_c()},
                               per_tensor(out_scale, out_zp));
  g.set_op(OpType::kDepthwiseConv2d, {in, wt, bt}, {out}, options_of(c));
  std::vector<uint8_t> first;
  for (int threads : kThreads) {
    const auto actual = g.run({{in, to_bytes(x)}}, threads);
    const float max_scale = *std::max_element(w_scales.begin(), w_scales.end());
    expect_close_quantized(
        from_bytes<int8_t>(actual), expected, 1,
        double_rounding_allowance(expected.size(), double{in_scale} * max_scale / out_scale),
        "int8 depthwise");
    if (first.empty()) first = actual;
    EXPECT_EQ(actual, first) << "results differ between thread counts";
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, DepthwiseInt8Test, ::testing::ValuesIn(cases()));

class DepthwiseFloatTest : public ::testing::TestWithParam<DwCase> {};

TEST_P(DepthwiseFloatTest, MatchesDoubleMath) {
  const DwCase c = GetParam();
  std::mt19937 rng(c.seed + 90);
  const auto x = random_floats(size_t(c.batch) * c.in_h * c.in_w * c.in_c, -2, 2, rng);
  const auto w = random_floats(size_t(c.kh) * c.kw * c.out_c(), -1, 1, rng);
  const auto b = random_floats(c.out_c(), -1, 1, rng);
  const std::vector<double> xr(x.begin(), x.end()), wr(w.begin(), w.end());
  const std::vector<double> br =
      c.bias ? std::vector<double>(b.begin(), b.end()) : std::vector<double>();
  int out_h = 0, out_w = 0;
  const auto y = reference_depthwise(c, xr, wr, br, &out_h, &out_w);
  OpGraph g;
  const int in = g.add_tensor(DataType::kFloat32, {c.batch, c.in_h, c.in_w, c.in_c});
  const int wt = g.add_constant(DataType::kFloat32, {1, c.kh, c.kw, c.out_c()}, w);
  const int bt = c.bias ? g.add_constant(DataType::kFloat32, {c.out_c()}, b) : kNoTensor;
  const int out = g.add_tensor(DataType::kFloat32, {c.batch, out_h, out_w, c.out_c()});
  g.set_op(OpType::kDepthwiseConv2d, {in, wt, bt}, {out}, options_of(c));
  const auto actual = from_bytes<float>(g.run({{in, to_bytes(x)}}, 3));
  ASSERT_EQ(actual.size(), y.size());
  for (size_t i = 0; i < y.size(); ++i) ASSERT_NEAR(actual[i], y[i], 1e-5) << "element " << i;
}

INSTANTIATE_TEST_SUITE_P(Cases, DepthwiseFloatTest, ::testing::ValuesIn(cases()));

// Depth multiplier 2 worked out by hand: output channel 2 * ic + m uses filter channel 2 * ic + m.
TEST(DepthwiseTest, MultiplierChannelOrder) {
  OpGraph g;
  const int in = g.add_tensor(DataType::kFloat32, {1, 1, 1, 2});
  const int wt = g.add_constant(DataType::kFloat32, {1, 1, 1, 4}, std::vector<float>{1, 2, 3, 4});
  const int bt = g.add_constant(DataType::kFloat32, {4}, std::vector<float>{0, 0, 0, 0.5f});
  const int out = g.add_tensor(DataType::kFloat32, {1, 1, 1, 4});
  DepthwiseConv2dOptions o;
  o.depth_multiplier = 2;
  g.set_op(OpType::kDepthwiseConv2d, {in, wt, bt}, {out}, o);
  EXPECT_EQ(from_bytes<float>(g.run({{in, to_bytes(std::vector<float>{10, 100})}})),
            (std::vector<float>{10, 20, 300, 400.5f}));
}

struct DwErrorGraph {
  OpGraph g;
  int in, wt, out;
  DwErrorGraph() {
    in = g.add_tensor(DataType::kInt8, {1, 5, 5, 2}, per_tensor(0.1f, -1));
    wt = g.add_constant(DataType::kInt8, {1, 3, 3, 4}, std::vector<int8_t>(36, 3),
                        per_channel({0.1f, 0.2f, 0.3f, 0.4f}, 3));
    out = g.add_tensor(DataType::kInt8, {1, 5, 5, 4}, per_tensor(0.3f, 5));
    DepthwiseConv2dOptions o;
    o.depth_multiplier = 2;
    g.set_op(OpType::kDepthwiseConv2d, {in, wt, kNoTensor}, {out}, o);
  }
};

TEST(DepthwiseErrorTest, ValidGraphPrepares) { EXPECT_EQ(DwErrorGraph().g.create_error(), ""); }

TEST(DepthwiseErrorTest, Errors) {
  {
    DwErrorGraph e;
    e.g.op().options = DepthwiseConv2dOptions{};  // depth_multiplier 1 != 4 / 2
    EXPECT_NE(e.g.create_error().find("op 0 (DEPTHWISE_CONV_2D): weights have 4 channels"),
              std::string::npos);
  }
  {
    DwErrorGraph e;
    e.g.tensor(e.wt).quant = per_channel({0.1f, 0.2f, 0.3f}, 3);
    EXPECT_EQ(e.g.create_error(),
              "op 0 (DEPTHWISE_CONV_2D): weights has 3 per-channel scales, expected 4");
  }
  {
    DwErrorGraph e;
    e.g.tensor(e.wt).quant.quantized_dimension = 0;
    EXPECT_NE(e.g.create_error().find("quantized along dimension 3"), std::string::npos);
  }
  {
    DwErrorGraph e;
    e.g.tensor(e.out).shape = {1, 5, 5, 2};
    EXPECT_NE(e.g.create_error().find("does not match the computed shape [1,5,5,4]"),
              std::string::npos);
  }
  {
    DwErrorGraph e;
    e.g.tensor(e.in).type = DataType::kInt16;
    EXPECT_EQ(e.g.create_error(),
              "op 0 (DEPTHWISE_CONV_2D): input must be uint8, int8 or float32, got int16");
  }
  {
    DwErrorGraph e;
    e.g.tensor(e.out).quant.zero_point = {128};
    EXPECT_NE(e.g.create_error().find("output zero point 128 is outside the int8 range"),
              std::string::npos);
  }
  {
    DwErrorGraph e;
    e.g.tensor(e.wt).shape = {2, 3, 3, 2};
    EXPECT_NE(e.g.create_error().find("weights must have shape [1,KH,KW,O]"), std::string::npos);
  }
}

}  // namespace
}  // namespace qseg::test

// CONV_2D kernels (uint8, int8 per-channel, float32) against double-precision convolution, plus
// hand-computed cases pinning the padding and requantization rules.
#include <gtest/gtest.h>

#include "kernel_test_util.h"

namespace qseg::test {
namespace {

struct ConvCase {
  int batch = 1, in_h = 5, in_w = 5, in_c = 3, out_c = 4, kh = 3, kw = 3;
  int stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  Padding padding = Padding::kSame;
  Activation activation = Activation::kNone;
  bool bias = true;
  int input_zero_point = 128;    // uint8 (int8 cases add -128)
  int weights_zero_point = 128;  // uint8 only
  int output_zero_point = -1;    // -1: chosen to cover the output range
  double range_factor = 1.0;     // < 1 makes the output scale too small: values saturate
  uint32_t seed = 1;
};

std::ostream& operator<<(std::ostream& os, const ConvCase& c) {
  return os << c.batch << "x" << c.in_h << "x" << c.in_w << "x" << c.in_c << " -> " << c.out_c
            << " k" << c.kh << "x" << c.kw << " s" << c.stride_h << "," << c.stride_w << " d"
            << c.dilation_h << "," << c.dilation_w
            << (c.padding == Padding::kSame ? " SAME" : " VALID") << " act "
            << static_cast<int>(c.activation) << " zp " << c.input_zero_point << "/"
            << c.weights_zero_point << "/" << c.output_zero_point << " range " << c.range_factor;
}

Conv2dOptions options_of(const ConvCase& c) {
  Conv2dOptions o;
  o.padding = c.padding;
  o.stride_h = c.stride_h;
  o.stride_w = c.stride_w;
  o.dilation_h = c.dilation_h;
  o.dilation_w = c.dilation_w;
  o.activation = c.activation;
  return o;
}

// Real-valued convolution of real input x [N,H,W,I] and weights w [O,KH,KW,I], plus bias b.
std::vector<double> reference_conv(const ConvCase& c, const std::vector<double>& x,
                                   const std::vector<double>& w, const std::vector<double>& b,
                                   int* out_h, int* out_w) {
  const Axis ay = axis_geometry(c.padding, c.in_h, c.kh, c.stride_h, c.dilation_h);
  const Axis ax = axis_geometry(c.padding, c.in_w, c.kw, c.stride_w, c.dilation_w);
  *out_h = ay.out;
  *out_w = ax.out;
  std::vector<double> y(static_cast<size_t>(c.batch) * ay.out * ax.out * c.out_c);
  size_t i = 0;
  for (int n = 0; n < c.batch; ++n)
    for (int oy = 0; oy < ay.out; ++oy)
      for (int ox = 0; ox < ax.out; ++ox)
        for (int oc = 0; oc < c.out_c; ++oc) {
          double sum = b.empty() ? 0.0 : b[oc];
          for (int ky = 0; ky < c.kh; ++ky)
            for (int kx = 0; kx < c.kw; ++kx) {
              const int iy = oy * c.stride_h - ay.pad + ky * c.dilation_h;
              const int ix = ox * c.stride_w - ax.pad + kx * c.dilation_w;
              if (iy < 0 || iy >= c.in_h || ix < 0 || ix >= c.in_w) continue;
              for (int ic = 0; ic < c.in_c; ++ic) {
                sum += x[((n * c.in_h + iy) * c.in_w + ix) * c.in_c + ic] *
                       w[((oc * c.kh + ky) * c.kw + kx) * c.in_c + ic];
              }
            }
          y[i++] = activate(sum, c.activation);
        }
  return y;
}

// Output scale and zero point for real values `y` in an 8-bit range [qmin, qmax].
std::pair<float, int> output_quantization(const std::vector<double>& y, const ConvCase& c, int qmin,
                                          int qmax) {
  double lo = std::min(0.0, *std::min_element(y.begin(), y.end()));
  double hi = std::max(0.0, *std::max_element(y.begin(), y.end()));
  if (c.output_zero_point >= 0) {  // fixed zero point (uint8 encoding, shifted for int8)
    const int zp = c.output_zero_point + qmin;
    const double scale =
        std::max({hi / std::max(qmax - zp, 1), -lo / std::max(zp - qmin, 1), 1e-3});
    return {static_cast<float>(scale * c.range_factor), zp};
  }
  const double scale = std::max((hi - lo) / (qmax - qmin), 1e-3) * c.range_factor;
  const int zp = std::clamp(static_cast<int>(std::lround(qmin - lo / scale)), qmin, qmax);
  return {static_cast<float>(scale), zp};
}

const int kThreads[] = {1, 3};

class Conv2dUint8Test : public ::testing::TestWithParam<ConvCase> {};

TEST_P(Conv2dUint8Test, MatchesDoubleConvolution) {
  const ConvCase c = GetParam();
  std::mt19937 rng(c.seed);
  const float in_scale = 0.03f, w_scale = 0.004f;
  const auto x = random_ints<uint8_t>(size_t(c.batch) * c.in_h * c.in_w * c.in_c, 0, 255, rng);
  const auto w = random_ints<uint8_t>(size_t(c.out_c) * c.kh * c.kw * c.in_c, 0, 255, rng);
  const auto b = random_ints<int32_t>(c.out_c, -5000, 5000, rng);
  std::vector<double> xr(x.size()), wr(w.size()), br;
  for (size_t i = 0; i < x.size(); ++i) xr[i] = double{in_scale} * (x[i] - c.input_zero_point);
  for (size_t i = 0; i < w.size(); ++i) wr[i] = double{w_scale} * (w[i] - c.weights_zero_point);
  if (c.bias) {
    for (int32_t v : b) br.push_back(double{in_scale} * double{w_scale} * v);
  }
  int out_h = 0, out_w = 0;
  const std::vector<double> y = reference_conv(c, xr, wr, br, &out_h, &out_w);
  const auto [out_scale, out_zp] = output_quantization(y, c, 0, 255);
  std::vector<int32_t> expected(y.size());
  size_t saturated = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    expected[i] = quantize_double(y[i], out_scale, out_zp, 0, 255);
    const double unclamped = std::round(y[i] / out_scale) + out_zp;
    saturated += unclamped < 0 || unclamped > 255;
  }
  if (c.range_factor < 1) {
    EXPECT_GT(saturated, 0u) << "the case should saturate";
  }

  OpGraph g;
  const int in = g.add_tensor(DataType::kUInt8, {c.batch, c.in_h, c.in_w, c.in_c},
                              per_tensor(in_scale, c.input_zero_point));
  const int wt = g.add_constant(DataType::kUInt8, {c.out_c, c.kh, c.kw, c.in_c}, w,
                                per_tensor(w_scale, c.weights_zero_point));
  const int bt =
      c.bias ? g.add_constant(DataType::kInt32, {c.out_c}, b, per_tensor(in_scale * w_scale, 0))
             : kNoTensor;
  const int out = g.add_tensor(DataType::kUInt8, {c.batch, out_h, out_w, c.out_c},
                               per_tensor(out_scale, out_zp));
  g.set_op(OpType::kConv2d, {in, wt, bt}, {out}, options_of(c));
  std::vector<uint8_t> first;
  for (int threads : kThreads) {
    const auto actual = g.run({{in, x}}, threads);
    expect_close_quantized(
        actual, expected, 1,
        double_rounding_allowance(expected.size(), double{in_scale} * w_scale / out_scale),
        "uint8 conv");
    if (first.empty()) first = actual;
    EXPECT_EQ(actual, first) << "results differ between thread counts";
  }
}

std::vector<ConvCase> uint8_cases() {
  std::vector<ConvCase> cases;
  auto add = [&](auto f) {
    ConvCase c;
    c.seed = static_cast<uint32_t>(cases.size() + 1);
    f(c);
    cases.push_back(c);
  };
  add([](ConvCase& c) {
    c.in_h = c.in_w = 1;
    c.in_c = 1;
    c.out_c = 1;
    c.kh = c.kw = 1;
  });
  add([](ConvCase& c) {
    c.in_h = c.in_w = 1;
    c.in_c = 7;
    c.out_c = 3;
  });  // 3x3 over 1x1 SAME
  add([](ConvCase& c) {
    c.in_h = 5;
    c.in_w = 7;
    c.in_c = 3;
    c.out_c = 7;
    c.activation = Activation::kRelu6;
  });
  add([](ConvCase& c) {
    c.in_h = 9;
    c.in_w = 8;
    c.in_c = 17;
    c.out_c = 16;
    c.stride_h = c.stride_w = 2;
    c.activation = Activation::kRelu;
  });
  add([](ConvCase& c) {
    c.in_h = 11;
    c.in_w = 10;
    c.in_c = 7;
    c.out_c = 3;
    c.dilation_h = c.dilation_w = 2;
    c.padding = Padding::kValid;
  });
  add([](ConvCase& c) {
    c.in_h = 9;
    c.in_w = 9;
    c.in_c = 5;
    c.out_c = 2;
    c.dilation_h = c.dilation_w = 2;
  });  // SAME + dilation
  add([](ConvCase& c) {
    c.in_h = 7;
    c.in_w = 6;
    c.in_c = 8;
    c.out_c = 33;
    c.kh = c.kw = 1;
    c.stride_h = c.stride_w = 2;
    c.padding = Padding::kValid;
  });
  add([](ConvCase& c) {
    c.input_zero_point = 0;
    c.weights_zero_point = 255;
    c.output_zero_point = 0;
  });
  add([](ConvCase& c) {
    c.input_zero_point = 255;
    c.weights_zero_point = 0;
    c.output_zero_point = 255;
  });
  add([](ConvCase& c) {
    c.in_c = 16;
    c.out_c = 8;
    c.range_factor = 0.3;
  });  // saturates at 0 and 255
  add([](ConvCase& c) {
    c.batch = 2;
    c.in_h = 6;
    c.in_w = 7;
    c.kh = 2;
    c.kw = 4;
    c.stride_h = 2;
    c.dilation_w = 2;
  });
  add([](ConvCase& c) {
    c.bias = false;
    c.in_c = 1;
    c.out_c = 17;
  });
  add([](ConvCase& c) {
    c.activation = Activation::kReluN1To1;
    c.in_c = 4;
  });
  add([](ConvCase& c) {
    c.in_h = 4;
    c.in_w = 4;
    c.in_c = 96;
    c.out_c = 5;
    c.kh = c.kw = 1;
  });
  add([](ConvCase& c) {
    c.in_h = 8;
    c.in_w = 5;
    c.kh = 3;
    c.kw = 3;
    c.stride_h = 3;
    c.stride_w = 2;
    c.padding = Padding::kValid;
    c.activation = Activation::kRelu6;
  });
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Cases, Conv2dUint8Test, ::testing::ValuesIn(uint8_cases()));

class Conv2dInt8Test : public ::testing::TestWithParam<ConvCase> {};

TEST_P(Conv2dInt8Test, MatchesDoubleConvolutionPerChannel) {
  const ConvCase c = GetParam();
  std::mt19937 rng(c.seed + 100);
  const float in_scale = 0.02f;
  const int in_zp = c.input_zero_point - 128;
  // Per-channel scales spread over two orders of magnitude.
  std::vector<float> w_scales(c.out_c);
  std::uniform_real_distribution<float> log_scale(std::log(0.0005f), std::log(0.05f));
  for (float& s : w_scales) s = std::exp(log_scale(rng));
  const auto x = random_ints<int8_t>(size_t(c.batch) * c.in_h * c.in_w * c.in_c, -128, 127, rng);
  const auto w = random_ints<int8_t>(size_t(c.out_c) * c.kh * c.kw * c.in_c, -127, 127, rng);
  const auto b = random_ints<int32_t>(c.out_c, -20000, 20000, rng);
  std::vector<double> xr(x.size()), wr(w.size()), br;
  for (size_t i = 0; i < x.size(); ++i) xr[i] = double{in_scale} * (x[i] - in_zp);
  const size_t taps_per_channel = size_t(c.kh) * c.kw * c.in_c;
  for (size_t i = 0; i < w.size(); ++i) wr[i] = double{w_scales[i / taps_per_channel]} * w[i];
  if (c.bias) {
    for (int oc = 0; oc < c.out_c; ++oc) br.push_back(double{in_scale} * w_scales[oc] * b[oc]);
  }
  int out_h = 0, out_w = 0;
  const std::vector<double> y = reference_conv(c, xr, wr, br, &out_h, &out_w);
  const auto [out_scale, out_zp] = output_quantization(y, c, -128, 127);
  std::vector<int32_t> expected(y.size());
  for (size_t i = 0; i < y.size(); ++i)
    expected[i] = quantize_double(y[i], out_scale, out_zp, -128, 127);

  OpGraph g;
  const int in =
      g.add_tensor(DataType::kInt8, {c.batch, c.in_h, c.in_w, c.in_c}, per_tensor(in_scale, in_zp));
  const int wt =
      g.add_constant(DataType::kInt8, {c.out_c, c.kh, c.kw, c.in_c}, w, per_channel(w_scales, 0));
  const int bt = c.bias ? g.add_constant(DataType::kInt32, {c.out_c}, b) : kNoTensor;
  const int out = g.add_tensor(DataType::kInt8, {c.batch, out_h, out_w, c.out_c},
                               per_tensor(out_scale, out_zp));
  g.set_op(OpType::kConv2d, {in, wt, bt}, {out}, options_of(c));
  std::vector<uint8_t> first;
  for (int threads : kThreads) {
    const auto actual = g.run({{in, to_bytes(x)}}, threads);
    const float max_scale = *std::max_element(w_scales.begin(), w_scales.end());
    expect_close_quantized(
        from_bytes<int8_t>(actual), expected, 1,
        double_rounding_allowance(expected.size(), double{in_scale} * max_scale / out_scale),
        "int8 conv");
    if (first.empty()) first = actual;
    EXPECT_EQ(actual, first) << "results differ between thread counts";
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, Conv2dInt8Test, ::testing::ValuesIn(uint8_cases()));

class Conv2dFloatTest : public ::testing::TestWithParam<ConvCase> {};

TEST_P(Conv2dFloatTest, MatchesDoubleConvolution) {
  const ConvCase c = GetParam();
  std::mt19937 rng(c.seed + 200);
  const auto x = random_floats(size_t(c.batch) * c.in_h * c.in_w * c.in_c, -1, 1, rng);
  const auto w = random_floats(size_t(c.out_c) * c.kh * c.kw * c.in_c, -1, 1, rng);
  const auto b = random_floats(c.out_c, -1, 1, rng);
  const std::vector<double> xr(x.begin(), x.end()), wr(w.begin(), w.end());
  const std::vector<double> br =
      c.bias ? std::vector<double>(b.begin(), b.end()) : std::vector<double>();
  int out_h = 0, out_w = 0;
  const std::vector<double> y = reference_conv(c, xr, wr, br, &out_h, &out_w);

  OpGraph g;
  const int in = g.add_tensor(DataType::kFloat32, {c.batch, c.in_h, c.in_w, c.in_c});
  const int wt = g.add_constant(DataType::kFloat32, {c.out_c, c.kh, c.kw, c.in_c}, w);
  const int bt = c.bias ? g.add_constant(DataType::kFloat32, {c.out_c}, b) : kNoTensor;
  const int out = g.add_tensor(DataType::kFloat32, {c.batch, out_h, out_w, c.out_c});
  g.set_op(OpType::kConv2d, {in, wt, bt}, {out}, options_of(c));
  const auto actual = from_bytes<float>(g.run({{in, to_bytes(x)}}, 2));
  ASSERT_EQ(actual.size(), y.size());
  // Each sum has at most kh*kw*in_c + 1 terms of magnitude <= 1.
  const double tolerance = 1e-6 * (c.kh * c.kw * c.in_c + 1);
  for (size_t i = 0; i < y.size(); ++i) {
    ASSERT_NEAR(actual[i], y[i], tolerance) << "element " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, Conv2dFloatTest, ::testing::ValuesIn(uint8_cases()));

// SAME padding with an even filter puts the odd padded row and column after the input (TFLite:
// pad_before = total / 2). A 2x2 box filter over 3x3 then sums the window starting at (y, x).
TEST(Conv2dTest, SamePaddingWithEvenFilterPadsAfter) {
  OpGraph g;
  const int in = g.add_tensor(DataType::kFloat32, {1, 3, 3, 1});
  const int wt = g.add_constant(DataType::kFloat32, {1, 2, 2, 1}, std::vector<float>{1, 1, 1, 1});
  const int out = g.add_tensor(DataType::kFloat32, {1, 3, 3, 1});
  g.set_op(OpType::kConv2d, {in, wt}, {out}, Conv2dOptions{});
  const auto y =
      from_bytes<float>(g.run({{in, to_bytes(std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8, 9})}}));
  EXPECT_EQ(y, (std::vector<float>{12, 16, 9, 24, 28, 15, 15, 17, 9}));
}

// Stride 2 SAME over 5 pixels with a 3-wide filter: 3 outputs, one padded pixel on each side.
TEST(Conv2dTest, StrideTwoSamePadsOneEachSide) {
  OpGraph g;
  const int in = g.add_tensor(DataType::kFloat32, {1, 1, 5, 1});
  const int wt = g.add_constant(DataType::kFloat32, {1, 1, 3, 1}, std::vector<float>{1, 10, 100});
  const int out = g.add_tensor(DataType::kFloat32, {1, 1, 3, 1});
  Conv2dOptions o;
  o.stride_w = 2;
  g.set_op(OpType::kConv2d, {in, wt}, {out}, o);
  const auto y = from_bytes<float>(g.run({{in, to_bytes(std::vector<float>{1, 2, 3, 4, 5})}}));
  EXPECT_EQ(y, (std::vector<float>{210, 432, 54}));
}

// One uint8 1x1 convolution worked out by hand: input 1.0, weight 2.0, bias 1.0 -> 3.0 -> 40;
// with RELU6 a 7.0 result is clamped to the quantized 6.0 (70).
TEST(Conv2dTest, Uint8HandComputed) {
  OpGraph g;
  const int in = g.add_tensor(DataType::kUInt8, {1, 1, 2, 1}, per_tensor(0.5f, 128));
  const int wt = g.add_constant(DataType::kUInt8, {1, 1, 1, 1}, std::vector<uint8_t>{136},
                                per_tensor(0.25f, 128));
  const int bt =
      g.add_constant(DataType::kInt32, {1}, std::vector<int32_t>{8}, per_tensor(0.125f, 0));
  const int out = g.add_tensor(DataType::kUInt8, {1, 1, 2, 1}, per_tensor(0.1f, 10));
  Conv2dOptions o;
  o.activation = Activation::kRelu6;
  g.set_op(OpType::kConv2d, {in, wt, bt}, {out}, o);
  // x = 130 -> 1.0 -> 3.0; x = 134 -> 3.0 -> 7.0 -> clamp 6.0.
  EXPECT_EQ(g.run({{in, {130, 134}}}), (std::vector<uint8_t>{40, 70}));
}

}  // namespace
}  // namespace qseg::test

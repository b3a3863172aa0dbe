// AVERAGE_POOL_2D kernels (uint8, int8, float32): averages over in-bounds elements only, with
// TFLite's rounding, windows of every padding and stride, activations, and the errors.
#include <gtest/gtest.h>

#include "kernel_test_util.h"

namespace qseg::test {
namespace {

struct PoolCase {
  int batch = 1, h = 6, w = 6, c = 3, fh = 3, fw = 3, sh = 1, sw = 1;
  Padding padding = Padding::kSame;
  Activation activation = Activation::kNone;
  float scale = 0.05f;
  int zp = 128;  // uint8 encoding
  uint32_t seed = 1;
};

std::ostream& operator<<(std::ostream& os, const PoolCase& c) {
  return os << c.batch << "x" << c.h << "x" << c.w << "x" << c.c << " f" << c.fh << "x" << c.fw
            << " s" << c.sh << "," << c.sw << (c.padding == Padding::kSame ? " SAME" : " VALID")
            << " act " << static_cast<int>(c.activation) << " zp " << c.zp;
}

// The mean of each window's in-bounds elements, in double.
std::vector<double> window_means(const PoolCase& c, const std::vector<double>& x, int* oh,
                                 int* ow) {
  const Axis ay = axis_geometry(c.padding, c.h, c.fh, c.sh, 1);
  const Axis ax = axis_geometry(c.padding, c.w, c.fw, c.sw, 1);
  *oh = ay.out;
  *ow = ax.out;
  std::vector<double> means;
  for (int n = 0; n < c.batch; ++n)
    for (int y = 0; y < ay.out; ++y)
      for (int xo = 0; xo < ax.out; ++xo)
        for (int ch = 0; ch < c.c; ++ch) {
          double sum = 0;
          int used = 0;
          for (int fy = 0; fy < c.fh; ++fy)
            for (int fx = 0; fx < c.fw; ++fx) {
              const int iy = y * c.sh - ay.pad + fy, ix = xo * c.sw - ax.pad + fx;
              if (iy < 0 || iy >= c.h || ix < 0 || ix >= c.w) continue;
              sum += x[((n * c.h + iy) * c.w + ix) * c.c + ch];
              ++used;
            }
          means.push_back(sum / used);
        }
  return means;
}

OpOptions options_of(const PoolCase& c) {
  Pool2dOptions o;
  o.padding = c.padding;
  o.filter_h = c.fh;
  o.filter_w = c.fw;
  o.stride_h = c.sh;
  o.stride_w = c.sw;
  o.activation = c.activation;
  return o;
}

template <typename T>
void check_quantized_pool(const PoolCase& c, DataType type, int offset) {
  std::mt19937 rng(c.seed);
  const int qmin = offset, qmax = offset + 255, zp = c.zp + offset;
  const auto x = random_ints<T>(size_t(c.batch) * c.h * c.w * c.c, qmin, qmax, rng);
  const std::vector<double> xd(x.begin(), x.end());
  int oh = 0, ow = 0;
  const auto means = window_means(c, xd, &oh, &ow);
  // The activation range in stored values, then the stored mean rounded half away from zero.
  const int lo = std::max(qmin, c.activation == Activation::kNone ? qmin
                                : c.activation == Activation::kReluN1To1
                                    ? quantize_double(-1, c.scale, zp, qmin, qmax)
                                    : zp);
  const int hi = c.activation == Activation::kRelu6 ? quantize_double(6, c.scale, zp, qmin, qmax)
                 : c.activation == Activation::kReluN1To1
                     ? quantize_double(1, c.scale, zp, qmin, qmax)
                     : qmax;
  std::vector<int32_t> expected;
  for (double m : means) {
    const double rounded = m >= 0 ? std::floor(m + 0.5) : -std::floor(-m + 0.5);
    expected.push_back(std::clamp(static_cast<int>(rounded), lo, hi));
  }
  OpGraph g;
  const int in = g.add_tensor(type, {c.batch, c.h, c.w, c.c}, per_tensor(c.scale, zp));
  const int out = g.add_tensor(type, {c.batch, oh, ow, c.c}, per_tensor(c.scale, zp));
  g.set_op(OpType::kAveragePool2d, {in}, {out}, options_of(c));
  for (int threads : {1, 3}) {
    expect_close_quantized(from_bytes<T>(g.run({{in, to_bytes(x)}}, threads)), expected, 0, 0,
                           "average pool");
  }
}

std::vector<PoolCase> cases() {
  std::vector<PoolCase> all;
  auto add = [&](auto f) {
    PoolCase c;
    c.seed = static_cast<uint32_t>(all.size() + 1);
    f(c);
    all.push_back(c);
  };
  add([](PoolCase& c) {
    c.h = c.w = 1;
    c.c = 1;
    c.fh = c.fw = 1;
  });
  add([](PoolCase& c) {
    c.h = c.w = 1;
    c.c = 7;
  });  // 3x3 window over one pixel, SAME
  add([](PoolCase&) {});
  add([](PoolCase& c) {
    c.h = 7;
    c.w = 9;
    c.c = 17;
    c.sh = c.sw = 2;
  });
  add([](PoolCase& c) {
    c.h = 7;
    c.w = 9;
    c.padding = Padding::kValid;
    c.sh = 2;
  });
  add([](PoolCase& c) {
    c.h = 9;
    c.w = 9;
    c.fh = c.fw = 9;
    c.padding = Padding::kValid;
    c.c = 5;
  });  // global
  add([](PoolCase& c) {
    c.h = 8;
    c.w = 5;
    c.fh = 2;
    c.fw = 4;
    c.sh = 3;
    c.sw = 1;
    c.batch = 2;
  });
  add([](PoolCase& c) {
    c.activation = Activation::kRelu6;
    c.scale = 0.02f;
    c.zp = 30;
  });
  add([](PoolCase& c) {
    c.activation = Activation::kRelu;
    c.zp = 200;
  });
  add([](PoolCase& c) {
    c.activation = Activation::kReluN1To1;
    c.scale = 0.005f;
  });
  add([](PoolCase& c) { c.zp = 0; });
  add([](PoolCase& c) {
    c.zp = 255;
    c.fh = 4;
    c.fw = 2;
  });
  return all;
}

class AveragePoolTest : public ::testing::TestWithParam<PoolCase> {};

TEST_P(AveragePoolTest, Uint8RoundsTheMean) {
  check_quantized_pool<uint8_t>(GetParam(), DataType::kUInt8, 0);
}
TEST_P(AveragePoolTest, Int8RoundsTheMeanAwayFromZero) {
  check_quantized_pool<int8_t>(GetParam(), DataType::kInt8, -128);
}

TEST_P(AveragePoolTest, FloatIsTheMean) {
  const PoolCase c = GetParam();
  std::mt19937 rng(c.seed);
  const auto x = random_floats(size_t(c.batch) * c.h * c.w * c.c, -8, 8, rng);
  int oh = 0, ow = 0;
  const auto means = window_means(c, std::vector<double>(x.begin(), x.end()), &oh, &ow);
  OpGraph g;
  const int in = g.add_tensor(DataType::kFloat32, {c.batch, c.h, c.w, c.c});
  const int out = g.add_tensor(DataType::kFloat32, {c.batch, oh, ow, c.c});
  g.set_op(OpType::kAveragePool2d, {in}, {out}, options_of(c));
  const auto actual = from_bytes<float>(g.run({{in, to_bytes(x)}}, 2));
  ASSERT_EQ(actual.size(), means.size());
  for (size_t i = 0; i < means.size(); ++i) {
    ASSERT_NEAR(actual[i], activate(means[i], c.activation), 1e-5) << "element " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, AveragePoolTest, ::testing::ValuesIn(cases()));

// Corner windows of a SAME 3x3 pool count only their in-bounds elements: 4 at a corner.
TEST(AveragePoolTest, PaddingIsNotCounted) {
  OpGraph g;
  const int in = g.add_tensor(DataType::kUInt8, {1, 2, 2, 1}, per_tensor(1.0f, 0));
  const int out = g.add_tensor(DataType::kUInt8, {1, 2, 2, 1}, per_tensor(1.0f, 0));
  Pool2dOptions o;
  o.padding = Padding::kSame;
  o.filter_h = o.filter_w = 3;
  g.set_op(OpType::kAveragePool2d, {in}, {out}, o);
  // (1 + 2 + 3 + 4) / 4 = 2.5 -> 3 (TFLite's (sum + count / 2) / count).
  EXPECT_EQ(g.run({{in, {1, 2, 3, 4}}}), (std::vector<uint8_t>{3, 3, 3, 3}));
}

TEST(AveragePoolErrorTest, Errors) {
  OpGraph g;
  const int in = g.add_tensor(DataType::kUInt8, {1, 4, 4, 2}, per_tensor(0.5f, 10));
  const int out = g.add_tensor(DataType::kUInt8, {1, 2, 2, 2}, per_tensor(0.5f, 10));
  Pool2dOptions o;
  o.filter_h = o.filter_w = 2;
  o.stride_h = o.stride_w = 2;
  g.set_op(OpType::kAveragePool2d, {in}, {out}, o);
  EXPECT_EQ(g.create_error(), "");
  g.tensor(out).quant = per_tensor(0.25f, 10);
  EXPECT_NE(g.create_error().find(
                "op 0 (AVERAGE_POOL_2D): input and output must have the same scale and zero point"),
            std::string::npos);
  g.tensor(out).quant = per_tensor(0.5f, 10);
  g.tensor(out).shape = {1, 4, 4, 2};
  EXPECT_EQ(g.create_error(),
            "op 0 (AVERAGE_POOL_2D): output shape [1,4,4,2] does not match the computed shape "
            "[1,2,2,2]");
  g.tensor(out).shape = {1, 2, 2, 2};
  o.filter_w = 0;
  g.op().options = o;
  EXPECT_EQ(g.create_error(), "op 0 (AVERAGE_POOL_2D): filter width must be positive, got 0");
  g.op().options = std::monostate{};
  EXPECT_EQ(g.create_error(), "op 0 (AVERAGE_POOL_2D): missing Pool2dOptions");
  g.op().options = Pool2dOptions{};
  g.tensor(in).shape = {4, 4, 2};
  EXPECT_EQ(g.create_error(),
            "op 0 (AVERAGE_POOL_2D): input must have rank 4 (NHWC), got shape [4,4,2]");
}

}  // namespace
}  // namespace qseg::test

// RESIZE_BILINEAR kernels (uint8, int8, float32) against textbook bilinear interpolation in
// double, for align_corners, half_pixel_centers and neither, up- and downsampling; hand-worked
// values pinning TFLite's coordinate rules and qseg's rounding; and the errors.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "kernel_test_util.h"

namespace qseg::test {
namespace {

struct ResizeCase {
  int batch = 1, in_h = 4, in_w = 5, c = 3, out_h = 8, out_w = 9;
  bool align_corners = false, half_pixel = false;
  uint32_t seed = 1;
};

std::ostream& operator<<(std::ostream& os, const ResizeCase& c) {
  return os << c.batch << "x" << c.in_h << "x" << c.in_w << "x" << c.c << " -> " << c.out_h << "x"
            << c.out_w << (c.align_corners ? " align_corners" : "")
            << (c.half_pixel ? " half_pixel" : "");
}

// One axis of textbook bilinear sampling: the source coordinate clamped into [0, in - 1], the
// two neighbours and the weight of the second.
struct Sample {
  int i0, i1;
  double t;
};
Sample sample(int dst, int in, int out, bool align_corners, bool half_pixel) {
  const double scale = (align_corners && out > 1) ? double(in - 1) / (out - 1) : double(in) / out;
  double src = half_pixel ? (dst + 0.5) * scale - 0.5 : dst * scale;
  src = std::clamp(src, 0.0, double(in - 1));
  const int i0 = static_cast<int>(std::floor(src));
  return {i0, std::min(i0 + 1, in - 1), src - i0};
}

std::vector<double> reference_resize(const ResizeCase& c, const std::vector<double>& x) {
  std::vector<double> y;
  for (int n = 0; n < c.batch; ++n)
    for (int oy = 0; oy < c.out_h; ++oy) {
      const Sample sy = sample(oy, c.in_h, c.out_h, c.align_corners, c.half_pixel);
      for (int ox = 0; ox < c.out_w; ++ox) {
        const Sample sx = sample(ox, c.in_w, c.out_w, c.align_corners, c.half_pixel);
        for (int ch = 0; ch < c.c; ++ch) {
          auto at = [&](int yy, int xx) { return x[((n * c.in_h + yy) * c.in_w + xx) * c.c + ch]; };
          const double top = at(sy.i0, sx.i0) * (1 - sx.t) + at(sy.i0, sx.i1) * sx.t;
          const double bottom = at(sy.i1, sx.i0) * (1 - sx.t) + at(sy.i1, sx.i1) * sx.t;
          y.push_back(top * (1 - sy.t) + bottom * sy.t);
        }
      }
    }
  return y;
}

OpGraph resize_graph(const ResizeCase& c, DataType type, Quantization q, int* in) {
  OpGraph g;
  *in = g.add_tensor(type, {c.batch, c.in_h, c.in_w, c.c}, q);
  const int size = g.add_constant(DataType::kInt32, {2}, std::vector<int32_t>{c.out_h, c.out_w});
  const int out = g.add_tensor(type, {c.batch, c.out_h, c.out_w, c.c}, q);
  g.set_op(OpType::kResizeBilinear, {*in, size}, {out},
           ResizeBilinearOptions{c.align_corners, c.half_pixel});
  return g;
}

std::vector<ResizeCase> cases() {
  std::vector<ResizeCase> all;
  for (int mode = 0; mode < 3; ++mode) {
    auto add = [&](auto f) {
      ResizeCase c;
      c.align_corners = mode == 1;
      c.half_pixel = mode == 2;
      c.seed = static_cast<uint32_t>(all.size() + 1);
      f(c);
      all.push_back(c);
    };
    add([](ResizeCase&) {});  // upsample
    add([](ResizeCase& c) {
      c.in_h = 33;
      c.in_w = 33;
      c.c = 21;
      c.out_h = 65;
      c.out_w = 65;
    });
    add([](ResizeCase& c) {
      c.in_h = 9;
      c.in_w = 7;
      c.out_h = 4;
      c.out_w = 3;
    });  // down
    add([](ResizeCase& c) {
      c.in_h = 1;
      c.in_w = 1;
      c.c = 1;
      c.out_h = 3;
      c.out_w = 2;
    });
    add([](ResizeCase& c) {
      c.in_h = 5;
      c.in_w = 6;
      c.out_h = 1;
      c.out_w = 1;
    });
    add([](ResizeCase& c) {
      c.batch = 2;
      c.in_h = 3;
      c.in_w = 8;
      c.c = 7;
      c.out_h = 7;
      c.out_w = 5;
    });
    add([](ResizeCase& c) {
      c.in_h = 4;
      c.in_w = 4;
      c.out_h = 4;
      c.out_w = 4;
      c.c = 2;
    });  // same
  }
  return all;
}

class ResizeBilinearTest : public ::testing::TestWithParam<ResizeCase> {};

TEST_P(ResizeBilinearTest, FloatMatchesDoubleBilinear) {
  const ResizeCase c = GetParam();
  std::mt19937 rng(c.seed);
  const auto x = random_floats(size_t(c.batch) * c.in_h * c.in_w * c.c, -10, 10, rng);
  const auto expected = reference_resize(c, std::vector<double>(x.begin(), x.end()));
  int in = 0;
  OpGraph g = resize_graph(c, DataType::kFloat32, {}, &in);
  const auto actual = from_bytes<float>(g.run({{in, to_bytes(x)}}, 3));
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) ASSERT_NEAR(actual[i], expected[i], 1e-4) << i;
}

template <typename T>
void check_quantized_resize(const ResizeCase& c, DataType type, int qmin) {
  std::mt19937 rng(c.seed);
  const auto x = random_ints<T>(size_t(c.batch) * c.in_h * c.in_w * c.c, qmin, qmin + 255, rng);
  const auto real = reference_resize(c, std::vector<double>(x.begin(), x.end()));
  int in = 0;
  OpGraph g = resize_graph(c, type, per_tensor(0.1f, qmin + 7), &in);
  std::vector<uint8_t> first;
  for (int threads : {1, 3}) {
    const auto bytes = g.run({{in, to_bytes(x)}}, threads);
    const auto actual = from_bytes<T>(bytes);
    ASSERT_EQ(actual.size(), real.size());
    for (size_t i = 0; i < real.size(); ++i) {
      // Exactly the rounded value, except at a .5 tie, where the kernel's float coordinates
      // (the scale in/out is inexact in float) may fall on either side.
      const double v = real[i];
      const bool tie = std::abs(std::abs(v - std::trunc(v)) - 0.5) < 1e-3;
      const double lo = tie ? std::floor(v) : std::round(v);
      const double hi = tie ? std::ceil(v) : std::round(v);
      ASSERT_TRUE(actual[i] >= lo && actual[i] <= hi)
          << "element " << i << " is " << int{actual[i]} << ", expected " << v << " rounded";
    }
    if (first.empty()) first = bytes;
    EXPECT_EQ(bytes, first) << "results differ between thread counts";
  }
}

TEST_P(ResizeBilinearTest, Uint8RoundsToNearest) {
  check_quantized_resize<uint8_t>(GetParam(), DataType::kUInt8, 0);
}
TEST_P(ResizeBilinearTest, Int8RoundsToNearest) {
  check_quantized_resize<int8_t>(GetParam(), DataType::kInt8, -128);
}

INSTANTIATE_TEST_SUITE_P(Cases, ResizeBilinearTest, ::testing::ValuesIn(cases()));

std::vector<float> resize_row(std::vector<float> row, int out, bool align, bool half) {
  ResizeCase c;
  c.in_h = 1;
  c.in_w = static_cast<int>(row.size());
  c.c = 1;
  c.out_h = 1;
  c.out_w = out;
  c.align_corners = align;
  c.half_pixel = half;
  int in = 0;
  OpGraph g = resize_graph(c, DataType::kFloat32, {}, &in);
  return from_bytes<float>(g.run({{in, to_bytes(row)}}));
}

// Values worked out by hand from TFLite's rules.
TEST(ResizeBilinearTest, CoordinateRules) {
  // Neither: src = dst * in / out; the last outputs repeat the edge pixel.
  EXPECT_EQ(resize_row({0, 10}, 4, false, false), (std::vector<float>{0, 5, 10, 10}));
  // align_corners: the corners map onto each other.
  EXPECT_EQ(resize_row({0, 10}, 3, true, false), (std::vector<float>{0, 5, 10}));
  // half_pixel_centers: src = (dst + 0.5) * 0.5 - 0.5 = -0.25, 0.25, 0.75, 1.25, clamped.
  EXPECT_EQ(resize_row({0, 10}, 4, false, true), (std::vector<float>{0, 2.5f, 7.5f, 10}));
  // Downsampling by 2: neither samples pixels 0 and 2; half-pixel averages pairs.
  EXPECT_EQ(resize_row({0, 10, 20, 30}, 2, false, false), (std::vector<float>{0, 20}));
  EXPECT_EQ(resize_row({0, 10, 20, 30}, 2, false, true), (std::vector<float>{5, 25}));
}

// qseg rounds quantized results to nearest, ties away from zero, where TFLite's reference uint8
// kernel truncates (it would give 0 for the 0.5).
TEST(ResizeBilinearTest, QuantizedRoundsHalfAwayFromZero) {
  ResizeCase c;
  c.in_h = 1;
  c.in_w = 2;
  c.c = 1;
  c.out_h = 1;
  c.out_w = 3;
  c.align_corners = true;
  int in = 0;
  OpGraph g = resize_graph(c, DataType::kUInt8, per_tensor(0.5f, 0), &in);
  EXPECT_EQ(g.run({{in, {0, 1}}}), (std::vector<uint8_t>{0, 1, 1}));
  OpGraph h = resize_graph(c, DataType::kInt8, per_tensor(0.5f, 0), &in);
  EXPECT_EQ(from_bytes<int8_t>(h.run({{in, to_bytes(std::vector<int8_t>{0, -1})}})),
            (std::vector<int8_t>{0, -1, -1}));
}

// uint8 in XNNPACK's arithmetic (what the real TFLite computes): 11-bit weights, integer
// interpolation, rounded half up. At the DeepLabV3+ decoder's 24x40 -> 96x160 with corners
// aligned (scales 23/95 and 39/159, inexact in float) it differs from the float interpolation
// rounded to nearest in the last bit, so the optimized float kernels must not stand in for it.
TEST(ResizeBilinearTest, Uint8InXnnpacksArithmetic) {
  ResizeCase c;
  c.in_h = 24;
  c.in_w = 40;
  c.c = 4;
  c.out_h = 96;
  c.out_w = 160;
  c.align_corners = true;
  std::mt19937 rng(5);
  const auto x = random_ints<uint8_t>(size_t(c.in_h) * c.in_w * c.c, 0, 255, rng);
  const auto real = reference_resize(c, std::vector<double>(x.begin(), x.end()));
  int in = 0;
  OpGraph g = resize_graph(c, DataType::kUInt8, per_tensor(0.1f, 7), &in);
  KernelOptions options;
  options.requantization = Requantization::kXnnpack;
  g.set_kernel_options(options);
  const std::vector<uint8_t> actual = g.run({{in, x}});
  // Source coordinates as XNNPACK and TFLite compute them (float scale, float product).
  auto axis = [](int dst, int in_size, int out_size, int* lower, int* upper, int* weight) {
    const float scale = static_cast<float>(in_size - 1) / static_cast<float>(out_size - 1);
    const float src = static_cast<float>(dst) * scale;
    *lower = static_cast<int>(std::floor(src));
    *upper = std::min(*lower + 1, in_size - 1);
    *weight = static_cast<int>(std::nearbyint((src - static_cast<float>(*lower)) * 2048.0f));
  };
  size_t i = 0, off_nearest = 0;
  for (int oy = 0; oy < c.out_h; ++oy) {
    int y0, y1, wy, x0, x1, wx;
    axis(oy, c.in_h, c.out_h, &y0, &y1, &wy);
    for (int ox = 0; ox < c.out_w; ++ox) {
      axis(ox, c.in_w, c.out_w, &x0, &x1, &wx);
      for (int ch = 0; ch < c.c; ++ch, ++i) {
        auto at = [&](int yy, int xx) { return int64_t{x[(yy * c.in_w + xx) * c.c + ch]}; };
        const int64_t top = at(y0, x0) * 2048 + (at(y0, x1) - at(y0, x0)) * wx;
        const int64_t bottom = at(y1, x0) * 2048 + (at(y1, x1) - at(y1, x0)) * wx;
        const int64_t expected = (top * 2048 + (bottom - top) * wy + (1 << 21)) >> 22;
        ASSERT_EQ(actual[i], expected) << "at " << oy << "," << ox << "," << ch;
        off_nearest += std::lround(real[i]) != expected;
      }
    }
  }
  EXPECT_GT(off_nearest, 0u) << "the case must be one where the arithmetic matters";
}

TEST(ResizeBilinearErrorTest, Errors) {
  ResizeCase c;
  int in = 0;
  OpGraph g = resize_graph(c, DataType::kUInt8, per_tensor(0.5f, 3), &in);
  EXPECT_EQ(g.create_error(), "");
  g.op().options = ResizeBilinearOptions{true, true};
  EXPECT_EQ(g.create_error(),
            "op 0 (RESIZE_BILINEAR): align_corners and half_pixel_centers cannot both be set");
  g.op().options = std::monostate{};
  EXPECT_EQ(g.create_error(), "");
  g.tensor(g.op().inputs[1]).is_constant = false;
  EXPECT_EQ(g.create_error(), "op 0 (RESIZE_BILINEAR): size must be a constant tensor");
  g.tensor(g.op().inputs[1]).is_constant = true;
  g.tensor(g.op().outputs[0]).quant = per_tensor(0.5f, 4);
  EXPECT_NE(g.create_error().find("input and output must have the same scale and zero point"),
            std::string::npos);
  g.tensor(g.op().outputs[0]).quant = per_tensor(0.5f, 3);
  g.tensor(g.op().outputs[0]).shape = {1, 8, 8, 3};
  EXPECT_EQ(g.create_error(),
            "op 0 (RESIZE_BILINEAR): output shape [1,8,8,3] does not match the computed shape "
            "[1,8,9,3]");
  g.tensor(g.op().outputs[0]).shape = {1, 8, 9, 3};
  g.tensor(g.op().inputs[1]).data = to_bytes(std::vector<int32_t>{0, 9});
  EXPECT_EQ(g.create_error(), "op 0 (RESIZE_BILINEAR): size must be positive, got [0,9]");
  g.tensor(g.op().inputs[1]).type = DataType::kInt64;
  g.tensor(g.op().inputs[1]).data.resize(16);
  EXPECT_EQ(g.create_error(), "op 0 (RESIZE_BILINEAR): size must be int32, got int64");
}

}  // namespace
}  // namespace qseg::test

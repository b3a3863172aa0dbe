// The optimized kernels against the reference kernels: for every instruction set this CPU and
// build have, random shapes and edge cases (channels not a multiple of 16, k not a multiple of 4,
// extreme zero points, clamps, padding, strides, dilation, both requantizations, several
// threads) must give the same bytes. Each test also checks the optimized variant really ran.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "kernels/kernel.h"
#include "kernels/kernel_test_util.h"
#include "kernels/opt/optimized.h"
#include "kernels/resize_bilinear.h"
#include "qseg/interpreter.h"
#include "qseg/kernel_isa.h"

namespace qseg {
namespace {

using test::OpGraph;
using test::per_channel;
using test::per_tensor;
using test::random_ints;

std::vector<KernelIsa> optimized_isas() { return available_optimized_kernel_isas(); }

// Runs op 0 of `g` with the reference kernel and with `isa`'s; expects identical outputs and,
// when `expect_optimized`, that the optimized variant was the one created.
void expect_same_as_reference(OpGraph& g, const std::map<int, std::vector<uint8_t>>& inputs,
                              KernelIsa isa, Requantization requantization, int threads,
                              bool expect_optimized, const std::string& what) {
  KernelOptions reference;
  reference.requantization = requantization;
  g.set_kernel_options(reference);
  const std::vector<uint8_t> expected = g.run(inputs, threads);
  KernelOptions optimized = reference;
  optimized.isa = isa;
  g.set_kernel_options(optimized);
  auto kernel = g.create();
  ASSERT_TRUE(kernel.is_ok()) << what;
  EXPECT_EQ(kernel.value()->variant(),
            expect_optimized ? kernel_isa_name(isa) : std::string_view("reference"))
      << what;
  const std::vector<uint8_t> actual = g.run(inputs, threads);
  ASSERT_EQ(actual.size(), expected.size()) << what;
  size_t differ = 0, first = 0;
  for (size_t i = 0; i < actual.size(); ++i) {
    if (actual[i] != expected[i] && differ++ == 0) first = i;
  }
  EXPECT_EQ(differ, 0u) << what << ": " << differ << " of " << actual.size()
                        << " bytes differ, first at " << first << " (" << int{actual[first]}
                        << " vs " << int{expected[first]} << ")";
}

struct ConvCase {
  int h, w, in_c, out_c, filter, stride, dilation;
  Padding padding;
};

Activation random_activation(std::mt19937& rng) {
  const Activation all[] = {Activation::kNone, Activation::kRelu, Activation::kRelu6};
  return all[rng() % 3];
}

void conv_case(KernelIsa isa, const ConvCase& c, bool is_signed, Requantization requantization,
               int threads, float multiplier_boost, std::mt19937& rng,
               std::optional<Activation> activation = std::nullopt) {
  const DataType type = is_signed ? DataType::kInt8 : DataType::kUInt8;
  const int64_t lo = is_signed ? -128 : 0, hi = is_signed ? 127 : 255;
  const int32_t input_zero = static_cast<int32_t>(random_ints<int32_t>(1, lo, hi, rng)[0]);
  const int32_t weight_zero =
      is_signed ? 0 : static_cast<int32_t>(random_ints<int32_t>(1, 0, 255, rng)[0]);
  const int32_t output_zero = static_cast<int32_t>(random_ints<int32_t>(1, lo, hi, rng)[0]);
  const int k = c.filter * c.filter * c.in_c;
  const float in_scale = 0.02f, w_scale = 0.01f;
  const float out_scale = in_scale * w_scale * std::sqrt(static_cast<float>(k)) *
                          std::uniform_real_distribution<float>(4.0f, 40.0f)(rng) /
                          multiplier_boost;
  OpGraph g;
  const int in = g.add_tensor(type, {2, c.h, c.w, c.in_c}, per_tensor(in_scale, input_zero));
  Quantization wq = per_tensor(w_scale, weight_zero);
  if (is_signed) {
    std::vector<float> scales(c.out_c);
    for (auto& s : scales) s = w_scale * std::uniform_real_distribution<float>(0.5f, 2.0f)(rng);
    wq = per_channel(scales, 0);
  }
  const auto weights = random_ints<uint8_t>(size_t(c.out_c) * k, lo, hi, rng);
  const int wt = g.add_constant(type, {c.out_c, c.filter, c.filter, c.in_c}, weights, wq);
  Quantization bq = per_tensor(in_scale * w_scale, 0);
  if (is_signed) {
    std::vector<float> scales(c.out_c);
    for (int i = 0; i < c.out_c; ++i) scales[i] = in_scale * wq.scale[i];
    bq = per_channel(scales, 0);
  }
  const int bt = g.add_constant(DataType::kInt32, {c.out_c},
                                random_ints<int32_t>(c.out_c, -20000, 20000, rng), bq);
  Conv2dOptions options;
  options.padding = c.padding;
  options.stride_h = options.stride_w = c.stride;
  options.dilation_h = options.dilation_w = c.dilation;
  options.activation = activation ? *activation : random_activation(rng);
  const test::Axis ay = test::axis_geometry(c.padding, c.h, c.filter, c.stride, c.dilation);
  const test::Axis ax = test::axis_geometry(c.padding, c.w, c.filter, c.stride, c.dilation);
  const int out = g.add_tensor(type, {2, ay.out, ax.out, c.out_c}, per_tensor(0.05f, output_zero));
  g.tensor(out).quant.scale = {out_scale};
  g.set_op(OpType::kConv2d, {in, wt, bt}, {out}, options);
  const auto input = random_ints<uint8_t>(size_t(2) * c.h * c.w * c.in_c, lo, hi, rng);
  const std::string what = "conv " + std::to_string(c.h) + "x" + std::to_string(c.w) + "x" +
                           std::to_string(c.in_c) + " -> " + std::to_string(c.out_c) + " f" +
                           std::to_string(c.filter) + " s" + std::to_string(c.stride) + " d" +
                           std::to_string(c.dilation) + (is_signed ? " int8" : " uint8") + " zp " +
                           std::to_string(input_zero) + "/" + std::to_string(weight_zero);
  expect_same_as_reference(g, {{in, test::to_bytes(input)}}, isa, requantization, threads,
                           multiplier_boost < 2.0f, what);
}

class OptimizedKernelTest : public ::testing::TestWithParam<KernelIsa> {};

// MUL, SUB, HARD_SWISH and LOGISTIC have AVX2 and AVX-512 variants, no NEON ones yet: on
// aarch64 those ops run the reference kernel.
bool has_new_op_variants(KernelIsa isa) {
  return isa != KernelIsa::kNeon && isa != KernelIsa::kNeonDotprod;
}

TEST_P(OptimizedKernelTest, Conv2dMatchesReference) {
  std::mt19937 rng(7);
  const ConvCase cases[] = {
      {5, 7, 8, 16, 1, 1, 1, Padding::kSame},    {3, 3, 64, 17, 1, 1, 1, Padding::kSame},
      {4, 6, 96, 130, 1, 1, 1, Padding::kValid}, {9, 5, 12, 65, 1, 1, 1, Padding::kSame},
      {6, 6, 3, 16, 1, 1, 1, Padding::kSame},    {5, 5, 5, 33, 1, 1, 1, Padding::kSame},
      {9, 9, 8, 24, 1, 2, 1, Padding::kSame},    {17, 17, 3, 16, 3, 2, 1, Padding::kSame},
      {8, 8, 3, 16, 3, 2, 1, Padding::kSame},    {7, 9, 16, 21, 3, 1, 2, Padding::kSame},
      {7, 7, 8, 8, 3, 1, 1, Padding::kValid},    {2, 3, 20, 70, 3, 1, 1, Padding::kSame},
      {1, 1, 1280, 64, 1, 1, 1, Padding::kSame}, {5, 7, 128, 40, 1, 1, 1, Padding::kSame},
      {6, 6, 320, 33, 1, 1, 1, Padding::kSame},
  };
  for (const ConvCase& c : cases) {
    for (bool is_signed : {false, true}) {
      for (Requantization r : {Requantization::kFixedPoint, Requantization::kXnnpack}) {
        for (int threads : {1, 3}) conv_case(GetParam(), c, is_signed, r, threads, 1.0f, rng);
      }
    }
  }
}

// The harness itself: a kernel that writes one byte past its output fails the run (outside
// ASan, which catches the write itself).
TEST(KernelHarness, CatchesAWritePastTheOutput) {
  if (test::kGuardBytes == 0) GTEST_SKIP() << "ASan build: the buffers have their exact size";
  OpGraph g;
  const int in = g.add_tensor(DataType::kUInt8, {1, 2, 2, 3}, per_tensor(0.1f, 0));
  const int wt = g.add_constant(DataType::kUInt8, {5, 1, 1, 3}, std::vector<uint8_t>(15, 1),
                                per_tensor(0.1f, 0));
  const int out = g.add_tensor(DataType::kUInt8, {1, 2, 2, 5}, per_tensor(0.5f, 0));
  g.set_op(OpType::kConv2d, {in, wt}, {out}, Conv2dOptions{});
  const auto overrun = [out](const Kernel& kernel, const KernelContext& context) {
    kernel.run(context);
    static_cast<uint8_t*>(context.tensors[out])[2 * 2 * 5] = 0;
  };
  EXPECT_NONFATAL_FAILURE(g.run({{in, std::vector<uint8_t>(12, 3)}}, 1, overrun),
                          "wrote past the end of tensor");
}

// Output channels whose blocks of 16 end in a group of four with a partial last block (50, 56,
// 120): with the whole 8-bit range (no activation) the AVX-512 kernels store four blocks at a
// time, and must not do so for the partial group, whose 64-byte store would run past the pixel
// and, for the last pixel, past the tensor (the harness checks the bytes after it). At least 16
// pixels per call, so the AMX path runs, both 1x1 (input read in place) and 3x3 (im2col).
TEST_P(OptimizedKernelTest, Conv2dFourBlockStoresStayInsideTheTensor) {
  std::mt19937 rng(19);
  const ConvCase cases[] = {
      {4, 5, 24, 56, 1, 1, 1, Padding::kSame},
      {5, 5, 8, 120, 3, 1, 1, Padding::kSame},
      {3, 6, 16, 50, 1, 1, 1, Padding::kValid},
  };
  for (const ConvCase& c : cases) {
    for (bool is_signed : {false, true}) {
      for (Requantization r : {Requantization::kFixedPoint, Requantization::kXnnpack}) {
        for (int threads : {1, 2}) {
          conv_case(GetParam(), c, is_signed, r, threads, 1.0f, rng, Activation::kNone);
        }
      }
    }
  }
}

TEST_P(OptimizedKernelTest, Conv2dWithMultiplierAboveOneFallsBackToReference) {
  std::mt19937 rng(11);
  conv_case(GetParam(), {4, 4, 8, 16, 1, 1, 1, Padding::kSame}, false, Requantization::kFixedPoint,
            1, 1000.0f, rng);
}

TEST_P(OptimizedKernelTest, Conv2dExtremeZeroPoints) {
  // All-255 inputs and weights with zero points 0 and 255: the largest folded terms.
  for (int32_t zero : {0, 255}) {
    OpGraph g;
    const int in = g.add_tensor(DataType::kUInt8, {1, 3, 3, 64}, per_tensor(0.01f, zero));
    const int wt = g.add_constant(DataType::kUInt8, {20, 1, 1, 64}, std::vector<uint8_t>(1280, 255),
                                  per_tensor(0.01f, 255 - zero));
    const int out = g.add_tensor(DataType::kUInt8, {1, 3, 3, 20}, per_tensor(0.5f, 128));
    g.set_op(OpType::kConv2d, {in, wt}, {out}, Conv2dOptions{});
    std::vector<uint8_t> input(3 * 3 * 64, 255);
    input[5] = 0;
    expect_same_as_reference(g, {{in, input}}, GetParam(), Requantization::kFixedPoint, 1, true,
                             "extreme zero point " + std::to_string(zero));
  }
}

TEST_P(OptimizedKernelTest, DepthwiseConv2dMatchesReference) {
  std::mt19937 rng(3);
  const ConvCase cases[] = {
      {8, 8, 16, 16, 3, 1, 1, Padding::kSame},    {9, 9, 48, 48, 3, 2, 1, Padding::kSame},
      {7, 5, 17, 17, 3, 1, 2, Padding::kSame},    {6, 6, 33, 33, 3, 1, 1, Padding::kValid},
      {5, 5, 1, 1, 3, 2, 1, Padding::kSame},      {9, 9, 8, 8, 5, 1, 1, Padding::kSame},
      {3, 3, 40, 40, 3, 1, 4, Padding::kSame},    {12, 13, 24, 24, 3, 1, 2, Padding::kSame},
      {11, 14, 40, 40, 3, 1, 3, Padding::kValid},
  };
  for (const ConvCase& c : cases) {
    for (bool is_signed : {false, true}) {
      for (Requantization r : {Requantization::kFixedPoint, Requantization::kXnnpack}) {
        const DataType type = is_signed ? DataType::kInt8 : DataType::kUInt8;
        const int64_t lo = is_signed ? -128 : 0, hi = is_signed ? 127 : 255;
        const auto zeros = random_ints<int32_t>(3, lo, hi, rng);
        OpGraph g;
        const int in = g.add_tensor(type, {1, c.h, c.w, c.in_c}, per_tensor(0.02f, zeros[0]));
        Quantization wq = per_tensor(0.01f, is_signed ? 0 : zeros[1] - lo);
        if (is_signed) wq = per_channel(std::vector<float>(c.in_c, 0.01f), 3);
        const int wt = g.add_constant(
            type, {1, c.filter, c.filter, c.in_c},
            random_ints<uint8_t>(size_t(c.filter) * c.filter * c.in_c, lo, hi, rng), wq);
        Quantization bq = per_tensor(0.0002f, 0);
        if (is_signed) bq = per_channel(std::vector<float>(c.in_c, 0.0002f), 0);
        const int bt = g.add_constant(DataType::kInt32, {c.in_c},
                                      random_ints<int32_t>(c.in_c, -5000, 5000, rng), bq);
        DepthwiseConv2dOptions options;
        options.padding = c.padding;
        options.stride_h = options.stride_w = c.stride;
        options.dilation_h = options.dilation_w = c.dilation;
        options.activation = random_activation(rng);
        const test::Axis ay = test::axis_geometry(c.padding, c.h, c.filter, c.stride, c.dilation);
        const test::Axis ax = test::axis_geometry(c.padding, c.w, c.filter, c.stride, c.dilation);
        const int out =
            g.add_tensor(type, {1, ay.out, ax.out, c.in_c}, per_tensor(0.03f, zeros[2]));
        g.set_op(OpType::kDepthwiseConv2d, {in, wt, bt}, {out}, options);
        const auto input = random_ints<uint8_t>(size_t(c.h) * c.w * c.in_c, lo, hi, rng);
        expect_same_as_reference(g, {{in, input}}, GetParam(), r, 2, true,
                                 "depthwise c" + std::to_string(c.in_c) + " f" +
                                     std::to_string(c.filter) + " s" + std::to_string(c.stride) +
                                     " d" + std::to_string(c.dilation));
      }
    }
  }
}

TEST_P(OptimizedKernelTest, AddMatchesReference) {
  std::mt19937 rng(5);
  for (int size : {1, 15, 16, 17, 1000}) {
    for (bool is_signed : {false, true}) {
      for (Requantization r : {Requantization::kFixedPoint, Requantization::kXnnpack}) {
        const DataType type = is_signed ? DataType::kInt8 : DataType::kUInt8;
        const int64_t lo = is_signed ? -128 : 0, hi = is_signed ? 127 : 255;
        const auto zeros = random_ints<int32_t>(3, lo, hi, rng);
        const auto scales = test::random_floats(3, 0.01f, 0.2f, rng);
        OpGraph g;
        const int a = g.add_tensor(type, {1, 1, 1, size}, per_tensor(scales[0], zeros[0]));
        const int b = g.add_tensor(type, {1, 1, 1, size}, per_tensor(scales[1], zeros[1]));
        const int out = g.add_tensor(type, {1, 1, 1, size}, per_tensor(scales[2], zeros[2]));
        AddOptions options;
        options.activation = random_activation(rng);
        g.set_op(OpType::kAdd, {a, b}, {out}, options);
        expect_same_as_reference(
            g,
            {{a, random_ints<uint8_t>(size, lo, hi, rng)},
             {b, random_ints<uint8_t>(size, lo, hi, rng)}},
            GetParam(), r, 2, true,
            "add " + std::to_string(size) + " " + std::string(requantization_name(r)));
      }
    }
  }
}

TEST_P(OptimizedKernelTest, QuantizeMatchesReference) {
  std::mt19937 rng(17);
  for (DataType in_type : {DataType::kUInt8, DataType::kInt8}) {
    for (DataType out_type : {DataType::kUInt8, DataType::kInt8}) {
      for (float ratio : {0.3f, 0.9f, 1.0f, 2.7f, 40.0f}) {
        for (Requantization r : {Requantization::kFixedPoint, Requantization::kXnnpack}) {
          const int64_t in_lo = in_type == DataType::kInt8 ? -128 : 0;
          const int64_t out_lo = out_type == DataType::kInt8 ? -128 : 0;
          const auto in_zero = random_ints<int32_t>(1, in_lo, in_lo + 255, rng)[0];
          const auto out_zero = random_ints<int32_t>(1, out_lo, out_lo + 255, rng)[0];
          OpGraph g;
          const int in = g.add_tensor(in_type, {1, 37}, per_tensor(0.05f * ratio, in_zero));
          const int out = g.add_tensor(out_type, {1, 37}, per_tensor(0.05f, out_zero));
          g.set_op(OpType::kQuantize, {in}, {out});
          expect_same_as_reference(g, {{in, random_ints<uint8_t>(37, in_lo, in_lo + 255, rng)}},
                                   GetParam(), r, 2, true,
                                   "quantize ratio " + std::to_string(ratio));
        }
      }
    }
  }
}

TEST_P(OptimizedKernelTest, AveragePool2dMatchesReference) {
  std::mt19937 rng(19);
  struct PoolCase {
    int h, w, channels, filter, stride;
    Padding padding;
  };
  const PoolCase cases[] = {{33, 33, 40, 33, 1, Padding::kValid},
                            {9, 7, 17, 3, 2, Padding::kSame},
                            {6, 6, 16, 2, 2, Padding::kValid},
                            {5, 5, 3, 5, 1, Padding::kSame},
                            // A SAME window far larger than the input (a file may say so): its
                            // area times 255 passes int64 (the fuzzer's case), so the optimized
                            // kernel declines and the reference runs.
                            {4, 5, 3, 1 << 28, 1, Padding::kSame}};
  const bool has_pool = kernels::opt::kernels_for(GetParam())->average_pool_2d != nullptr;
  for (const PoolCase& c : cases) {
    const bool optimized = has_pool && c.filter < (1 << 20);
    for (bool is_signed : {false, true}) {
      const DataType type = is_signed ? DataType::kInt8 : DataType::kUInt8;
      const int64_t lo = is_signed ? -128 : 0;
      OpGraph g;
      const int in = g.add_tensor(type, {1, c.h, c.w, c.channels}, per_tensor(0.1f, lo + 7));
      const test::Axis ay = test::axis_geometry(c.padding, c.h, c.filter, c.stride, 1);
      const test::Axis ax = test::axis_geometry(c.padding, c.w, c.filter, c.stride, 1);
      const int out = g.add_tensor(type, {1, ay.out, ax.out, c.channels}, per_tensor(0.1f, lo + 7));
      Pool2dOptions options;
      options.padding = c.padding;
      options.stride_h = options.stride_w = c.stride;
      options.filter_h = options.filter_w = c.filter;
      options.activation = random_activation(rng);
      g.set_op(OpType::kAveragePool2d, {in}, {out}, options);
      expect_same_as_reference(
          g, {{in, random_ints<uint8_t>(size_t(c.h) * c.w * c.channels, lo, lo + 255, rng)}},
          GetParam(), Requantization::kFixedPoint, 2, optimized,
          "average pool " + std::to_string(c.h) + "x" + std::to_string(c.w) + " f" +
              std::to_string(c.filter));
    }
  }
}

struct ResizeCase {
  int in_h, in_w, out_h, out_w, channels;
  bool align_corners, half_pixel;
};

const ResizeCase kResizeCases[] = {
    {1, 1, 5, 7, 16, true, false},     {3, 3, 17, 17, 21, true, false},
    {33, 33, 65, 65, 21, true, false}, {4, 5, 9, 33, 5, false, false},
    {4, 5, 9, 33, 40, false, true},    {9, 9, 4, 4, 3, false, false},
    {2, 2, 40, 3, 1, true, false},     {2, 64, 3, 4, 6, false, false},
};

int resize_graph(OpGraph& g, const ResizeCase& c, DataType type, int* input) {
  *input = g.add_tensor(type, {1, c.in_h, c.in_w, c.channels}, per_tensor(0.1f, 3));
  const int size = g.add_constant(DataType::kInt32, {2}, std::vector<int32_t>{c.out_h, c.out_w});
  const int out = g.add_tensor(type, {1, c.out_h, c.out_w, c.channels}, per_tensor(0.1f, 3));
  ResizeBilinearOptions options;
  options.align_corners = c.align_corners;
  options.half_pixel_centers = c.half_pixel;
  g.set_op(OpType::kResizeBilinear, {*input, size}, {out}, options);
  return out;
}

// Whether the case's interpolation is exact in float (kernels/resize_bilinear.h): only then do
// optimized kernels stand in for XNNPACK's uint8 arithmetic.
bool resize_is_exact(OpGraph& g) {
  const Graph graph = g.graph();
  auto params = kernels::prepare_resize_bilinear(graph, graph.ops[0]);
  return params.is_ok() && params.value().exact_interpolation;
}

TEST_P(OptimizedKernelTest, ResizeBilinearMatchesReference) {
  std::mt19937 rng(9);
  for (const ResizeCase& c : kResizeCases) {
    for (bool is_signed : {false, true}) {
      const DataType type = is_signed ? DataType::kInt8 : DataType::kUInt8;
      OpGraph g;
      int in = 0;
      resize_graph(g, c, type, &in);
      const auto input = random_ints<uint8_t>(size_t(c.in_h) * c.in_w * c.channels,
                                              is_signed ? -128 : 0, is_signed ? 127 : 255, rng);
      const bool has_resize = kernels::opt::kernels_for(GetParam())->resize_bilinear != nullptr;
      const std::string what =
          "resize to " + std::to_string(c.out_h) + "x" + std::to_string(c.out_w);
      expect_same_as_reference(g, {{in, input}}, GetParam(), Requantization::kFixedPoint, 2,
                               has_resize, what);
      // XNNPACK's arithmetic: the reference kernel, but for uint8 with exact interpolation.
      expect_same_as_reference(g, {{in, input}}, GetParam(), Requantization::kXnnpack, 2,
                               has_resize && !is_signed && resize_is_exact(g), what + " xnnpack");
    }
  }
}

// RESIZE_BILINEAR + ARG_MAX through the interpreter: fused with optimized kernels.
TEST_P(OptimizedKernelTest, FusedResizeArgMaxMatchesReference) {
  std::mt19937 rng(13);
  for (const ResizeCase& c : kResizeCases) {
    for (bool is_signed : {false, true}) {
      for (DataType index_type : {DataType::kInt64, DataType::kInt32}) {
        const DataType type = is_signed ? DataType::kInt8 : DataType::kUInt8;
        OpGraph g;
        int in = 0;
        const int resized = resize_graph(g, c, type, &in);
        const bool exact = resize_is_exact(g);
        const int axis = g.add_constant(DataType::kInt32, {1}, std::vector<int32_t>{3});
        const int labels = g.add_tensor(index_type, {1, c.out_h, c.out_w});
        Graph graph = g.graph();
        Op arg_max;
        arg_max.type = OpType::kArgMax;
        arg_max.inputs = {resized, axis};
        arg_max.outputs = {labels};
        ArgMaxOptions options;
        options.output_type = index_type;
        arg_max.options = options;
        graph.ops.push_back(arg_max);
        graph.inputs = {in};
        graph.outputs = {labels};
        // Few distinct values make many ties, which must keep the first channel.
        const auto input = random_ints<uint8_t>(size_t(c.in_h) * c.in_w * c.channels,
                                                is_signed ? -3 : 0, is_signed ? 0 : 3, rng);
        for (const Requantization r : {Requantization::kFixedPoint, Requantization::kXnnpack}) {
          std::vector<std::vector<uint8_t>> outputs;
          for (KernelIsa isa : {KernelIsa::kReference, GetParam()}) {
            InterpreterOptions options;
            options.kernel_isa = isa;
            options.requantization = r;
            options.num_threads = 2;
            auto interpreter = Interpreter::create(graph, options);
            ASSERT_TRUE(interpreter.is_ok()) << interpreter.status().message();
            std::copy(input.begin(), input.end(), interpreter.value()->input_bytes().begin());
            interpreter.value()->invoke();
            const auto bytes = interpreter.value()->output_bytes();
            outputs.emplace_back(bytes.begin(), bytes.end());
            if (isa != KernelIsa::kReference) {
              // Fused when every block of 16 output columns reads within 16 input columns: not
              // for the 64 -> 4 shrink; in XNNPACK's arithmetic, whose resize the reference
              // kernel computes, only for uint8 whose interpolation is exact.
              const bool xnnpack = r == Requantization::kXnnpack;
              const bool fusable = c.in_w != 64 &&
                                   kernels::opt::kernels_for(isa)->resize_arg_max != nullptr &&
                                   (!xnnpack || (!is_signed && exact));
              EXPECT_EQ(interpreter.value()->kernel_variant(1),
                        fusable ? std::string_view("fused") : std::string_view("reference"))
                  << c.in_w << " -> " << c.out_w;
            }
          }
          EXPECT_EQ(outputs[0], outputs[1]) << "resize " << c.in_h << "x" << c.in_w << " -> "
                                            << c.out_h << "x" << c.out_w << " c" << c.channels;
        }
      }
    }
  }
}

// MUL: elementwise, squeeze-excite's per-channel vector over H and W (either operand), a single
// value, and the broadcasts the micro-kernel does not take (the reference runs them), on random
// shapes and both requantizations (only XNNPACK's has a vector kernel).
TEST_P(OptimizedKernelTest, MulMatchesReference) {
  std::mt19937 rng(23);
  struct MulCase {
    std::vector<int32_t> a, b;
    bool optimized;  // under kXnnpack
  };
  std::vector<MulCase> cases;
  for (int i = 0; i < 6; ++i) {
    const int h = 1 + static_cast<int>(rng() % 9), w = 1 + static_cast<int>(rng() % 9);
    const int c = 1 + static_cast<int>(rng() % 70);
    cases.push_back({{1, h, w, c}, {1, h, w, c}, true});
    cases.push_back({{1, h, w, c}, {1, 1, 1, c}, true});
    cases.push_back({{1, 1, 1, c}, {2, h, w, c}, true});
    cases.push_back({{1, h, w, c}, {c}, true});
    cases.push_back({{1, h, w, c}, {1}, true});
    cases.push_back({{1, h, w, c}, {1, 1, w, c}, true});
    cases.push_back({{1, h, 1, c}, {1, 1, w, c}, h == 1 || w == 1});  // both broadcast
    cases.push_back({{1, h, w, c}, {1, h, 1, 1}, h == 1 || (w == 1 && c == 1)});
  }
  for (const MulCase& c : cases) {
    for (bool is_signed : {false, true}) {
      for (Requantization r : {Requantization::kFixedPoint, Requantization::kXnnpack}) {
        const DataType type = is_signed ? DataType::kInt8 : DataType::kUInt8;
        const int64_t lo = is_signed ? -128 : 0, hi = is_signed ? 127 : 255;
        const auto zeros = random_ints<int32_t>(3, lo, hi, rng);
        const auto scales = test::random_floats(2, 0.01f, 0.2f, rng);
        const float out_scale = scales[0] * scales[1] * test::random_floats(1, 2, 60, rng)[0];
        std::vector<std::pair<int64_t, int64_t>> sources;
        const auto out_shape = test::broadcast_sources(c.a, c.b, &sources);
        OpGraph g;
        const int a = g.add_tensor(type, c.a, per_tensor(scales[0], zeros[0]));
        const int b = g.add_tensor(type, c.b, per_tensor(scales[1], zeros[1]));
        const int out = g.add_tensor(type, out_shape, per_tensor(out_scale, zeros[2]));
        g.set_op(OpType::kMul, {a, b}, {out}, MulOptions{random_activation(rng)});
        expect_same_as_reference(
            g,
            {{a, random_ints<uint8_t>(test::element_count(c.a), lo, hi, rng)},
             {b, random_ints<uint8_t>(test::element_count(c.b), lo, hi, rng)}},
            GetParam(), r, 3,
            c.optimized && r == Requantization::kXnnpack && has_new_op_variants(GetParam()),
            "mul " + testing::PrintToString(c.a) + " x " + testing::PrintToString(c.b) + " " +
                std::string(requantization_name(r)));
      }
    }
  }
}

// SUB runs ADD's micro-kernel in XNNPACK's arithmetic (without broadcasting).
TEST_P(OptimizedKernelTest, SubMatchesReference) {
  std::mt19937 rng(29);
  for (int size : {1, 15, 16, 17, 1000}) {
    for (bool is_signed : {false, true}) {
      for (Requantization r : {Requantization::kFixedPoint, Requantization::kXnnpack}) {
        const DataType type = is_signed ? DataType::kInt8 : DataType::kUInt8;
        const int64_t lo = is_signed ? -128 : 0, hi = is_signed ? 127 : 255;
        const auto zeros = random_ints<int32_t>(3, lo, hi, rng);
        const auto scales = test::random_floats(3, 0.01f, 0.2f, rng);
        OpGraph g;
        const int a = g.add_tensor(type, {1, 1, 1, size}, per_tensor(scales[0], zeros[0]));
        const int b = g.add_tensor(type, {1, 1, 1, size}, per_tensor(scales[1], zeros[1]));
        const int out = g.add_tensor(type, {1, 1, 1, size}, per_tensor(scales[2], zeros[2]));
        g.set_op(OpType::kSub, {a, b}, {out}, SubOptions{random_activation(rng)});
        expect_same_as_reference(
            g,
            {{a, random_ints<uint8_t>(size, lo, hi, rng)},
             {b, random_ints<uint8_t>(size, lo, hi, rng)}},
            GetParam(), r, 2, r == Requantization::kXnnpack,
            "sub " + std::to_string(size) + " " + std::string(requantization_name(r)));
      }
    }
  }
}

// HARD_SWISH and LOGISTIC: the 8-bit table lookup on every byte value (and odd lengths), and float
// HARD_SWISH in XNNPACK's formula (the reference runs TFLite's built-in one).
TEST_P(OptimizedKernelTest, HardSwishAndLogisticMatchReference) {
  std::mt19937 rng(31);
  for (const OpType op : {OpType::kHardSwish, OpType::kLogistic}) {
    for (int size : {1, 31, 33, 64, 1000}) {
      for (const DataType type : {DataType::kUInt8, DataType::kInt8, DataType::kFloat32}) {
        for (Requantization r : {Requantization::kFixedPoint, Requantization::kXnnpack}) {
          const bool is_float = type == DataType::kFloat32;
          const int64_t lo = type == DataType::kInt8 ? -128 : 0;
          const auto zeros = random_ints<int32_t>(2, lo, lo + 255, rng);
          const float in_scale = test::random_floats(1, 0.005f, 0.2f, rng)[0];
          Quantization in_q, out_q;
          if (!is_float) {
            in_q = per_tensor(in_scale, zeros[0]);
            out_q = op == OpType::kLogistic ? per_tensor(1.0f / 256, lo)
                                            : per_tensor(in_scale * 0.7f, zeros[1]);
          }
          OpGraph g;
          const int in = g.add_tensor(type, {1, size}, in_q);
          const int out = g.add_tensor(type, {1, size}, out_q);
          g.set_op(op, {in}, {out});
          std::vector<uint8_t> bytes;
          if (is_float) {
            bytes = test::to_bytes(test::random_floats(size, -8, 8, rng));
          } else {
            bytes = random_ints<uint8_t>(size, 0, 255, rng);
            for (int i = 0; i < std::min(size, 256); ++i) bytes[i] = static_cast<uint8_t>(i);
          }
          const bool optimized =
              has_new_op_variants(GetParam()) &&
              (!is_float || (op == OpType::kHardSwish && r == Requantization::kXnnpack));
          expect_same_as_reference(g, {{in, bytes}}, GetParam(), r, 2, optimized,
                                   std::string(op_type_name(op)) + " " + std::to_string(size) +
                                       " " + std::string(data_type_name(type)) + " " +
                                       std::string(requantization_name(r)));
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Isas, OptimizedKernelTest, ::testing::ValuesIn(optimized_isas()),
                         [](const ::testing::TestParamInfo<KernelIsa>& info) {
                           std::string name(kernel_isa_name(info.param));
                           name.erase(std::remove(name.begin(), name.end(), '-'), name.end());
                           return name;
                         });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(OptimizedKernelTest);

}  // namespace
}  // namespace qseg

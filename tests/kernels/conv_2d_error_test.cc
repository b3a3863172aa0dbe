// CONV_2D prepare-time errors (counts, types, shapes, quantization, window, options) and the
// registry's op index check: every message carries the "op N (CONV_2D): " prefix.
#include <gtest/gtest.h>

#include <cmath>

#include "kernel_test_util.h"

namespace qseg::test {
namespace {

// A small valid uint8 conv graph the error tests break one field at a time.
struct ErrorGraph {
  OpGraph g;
  int in, wt, bt, out;
  ErrorGraph() {
    in = g.add_tensor(DataType::kUInt8, {1, 4, 4, 3}, per_tensor(0.1f, 128));
    wt = g.add_constant(DataType::kUInt8, {2, 3, 3, 3}, std::vector<uint8_t>(54, 130),
                        per_tensor(0.01f, 128));
    bt = g.add_constant(DataType::kInt32, {2}, std::vector<int32_t>{1, 2}, per_tensor(0.001f, 0));
    out = g.add_tensor(DataType::kUInt8, {1, 4, 4, 2}, per_tensor(0.2f, 100));
    g.set_op(OpType::kConv2d, {in, wt, bt}, {out}, Conv2dOptions{});
  }
};

TEST(Conv2dErrorTest, ValidGraphPrepares) { EXPECT_EQ(ErrorGraph().g.create_error(), ""); }

TEST(Conv2dErrorTest, WrongInputCount) {
  ErrorGraph e;
  e.g.op().inputs = {e.in};
  EXPECT_EQ(e.g.create_error(), "op 0 (CONV_2D): expected 2 to 3 inputs, got 1");
}

TEST(Conv2dErrorTest, WeightsOfWrongType) {
  ErrorGraph e;
  e.g.tensor(e.wt).type = DataType::kInt64;
  e.g.tensor(e.wt).data.resize(54 * 8);
  EXPECT_EQ(e.g.create_error(), "op 0 (CONV_2D): weights must be uint8 or int8, got int64");
}

TEST(Conv2dErrorTest, MixedUint8AndInt8) {
  ErrorGraph e;
  e.g.tensor(e.wt).type = DataType::kInt8;
  EXPECT_NE(e.g.create_error().find("op 0 (CONV_2D): weights must be uint8 like the input"),
            std::string::npos);
}

TEST(Conv2dErrorTest, OutputShapeMismatch) {
  ErrorGraph e;
  e.g.tensor(e.out).shape = {1, 2, 2, 2};
  EXPECT_EQ(e.g.create_error(),
            "op 0 (CONV_2D): output shape [1,2,2,2] does not match the computed shape [1,4,4,2]");
}

TEST(Conv2dErrorTest, ChannelMismatch) {
  ErrorGraph e;
  e.g.tensor(e.in).shape = {1, 4, 4, 4};
  EXPECT_NE(e.g.create_error().find("op 0 (CONV_2D): weights have 3 input channels"),
            std::string::npos);
}

TEST(Conv2dErrorTest, MissingQuantization) {
  ErrorGraph e;
  e.g.tensor(e.in).quant = {};
  EXPECT_EQ(e.g.create_error(), "op 0 (CONV_2D): input has no quantization parameters");
}

TEST(Conv2dErrorTest, InvalidScaleAndZeroPoint) {
  for (float scale : {0.0f, -1.0f, std::nanf(""), INFINITY}) {
    ErrorGraph e;
    e.g.tensor(e.out).quant.scale = {scale};
    EXPECT_NE(e.g.create_error().find("op 0 (CONV_2D): output scale must be positive and finite"),
              std::string::npos);
  }
  ErrorGraph e;
  e.g.tensor(e.in).quant.zero_point = {256};
  EXPECT_NE(e.g.create_error().find("input zero point 256 is outside the uint8 range"),
            std::string::npos);
}

TEST(Conv2dErrorTest, PerChannelScalesOfWrongLength) {
  ErrorGraph e;
  e.g.tensor(e.in) = Tensor{"in", DataType::kInt8, {1, 4, 4, 3}, per_tensor(0.1f, 0), {}, false};
  e.g.tensor(e.out).type = DataType::kInt8;
  e.g.tensor(e.out).quant = per_tensor(0.2f, -3);
  e.g.tensor(e.wt).type = DataType::kInt8;
  e.g.tensor(e.wt).quant = per_channel({0.01f, 0.02f, 0.03f}, 0);
  EXPECT_EQ(e.g.create_error(), "op 0 (CONV_2D): weights has 3 per-channel scales, expected 2");
  e.g.tensor(e.wt).quant = per_channel({0.01f, 0.02f}, 3);
  EXPECT_EQ(e.g.create_error(),
            "op 0 (CONV_2D): weights must be quantized along dimension 0, got 3");
  e.g.tensor(e.wt).quant = per_channel({0.01f, 0.02f}, 0);
  e.g.tensor(e.wt).quant.zero_point = {0, 1};
  EXPECT_NE(e.g.create_error().find("weights must be symmetric"), std::string::npos);
  e.g.tensor(e.wt).quant.zero_point = {0, 0};
  EXPECT_EQ(e.g.create_error(), "");
}

TEST(Conv2dErrorTest, BiasChecks) {
  ErrorGraph e;
  e.g.tensor(e.bt).shape = {3};
  e.g.tensor(e.bt).data.resize(12);
  EXPECT_NE(e.g.create_error().find("bias shape [3] must be [2]"), std::string::npos);
  ErrorGraph f;
  f.g.tensor(f.bt).quant = per_tensor(0.5f, 0);  // far from 0.1 * 0.01
  EXPECT_NE(f.g.create_error().find("bias scale"), std::string::npos);
  ErrorGraph h;
  h.g.tensor(h.bt).type = DataType::kFloat32;
  EXPECT_EQ(h.g.create_error(), "op 0 (CONV_2D): bias must be int32, got float32");
}

TEST(Conv2dErrorTest, BadWindow) {
  ErrorGraph e;
  Conv2dOptions o;
  o.stride_h = 0;
  e.g.op().options = o;
  EXPECT_EQ(e.g.create_error(), "op 0 (CONV_2D): stride height must be positive, got 0");
  o = Conv2dOptions{};
  o.padding = Padding::kValid;
  o.dilation_w = 3;  // effective width 7 > 4
  e.g.op().options = o;
  EXPECT_NE(e.g.create_error().find("larger than the input width"), std::string::npos);
  e.g.op().options = AddOptions{};
  EXPECT_EQ(e.g.create_error(), "op 0 (CONV_2D): missing Conv2dOptions");
}

TEST(Conv2dErrorTest, TensorIndexOutOfRange) {
  ErrorGraph e;
  e.g.op().inputs[1] = 99;
  EXPECT_NE(e.g.create_error().find("op 0 (CONV_2D): input 1 refers to tensor 99"),
            std::string::npos);
}

TEST(RegistryTest, BadOpIndex) {
  ErrorGraph e;
  for (int index : {-1, 1}) {
    auto kernel = create_kernel(e.g.graph(), index);
    ASSERT_FALSE(kernel.is_ok());
    EXPECT_NE(kernel.status().message().find("out of range"), std::string::npos);
  }
}

}  // namespace
}  // namespace qseg::test

// PAD and PADV2 kernels: random ranks, paddings and types against an element-by-element
// reference (output coordinate minus the padding before, or the pad value), multi-threaded; the
// pad value of each type; errors.
#include <gtest/gtest.h>

#include "kernel_test_util.h"

namespace qseg::test {
namespace {

// The flat input index of flat output index `i`, or -1 in the padding.
int64_t padded_source(int64_t i, const std::vector<int32_t>& in, const std::vector<int32_t>& out,
                      const std::vector<int32_t>& before) {
  int64_t source = 0, in_stride = 1;
  for (size_t d = out.size(); d-- > 0;) {
    const int64_t coordinate = i % out[d] - before[d];
    i /= out[d];
    if (coordinate < 0 || coordinate >= in[d]) return -1;
    source += coordinate * in_stride;
    in_stride *= in[d];
  }
  return source;
}

struct TypeCase {
  DataType type;
  Quantization quant;
  std::vector<uint8_t> pad;  // the bytes PAD fills with
};

TEST(PadTest, RandomShapesAndTypesMatchTheCoordinateRule) {
  std::mt19937 rng(34);
  const std::vector<TypeCase> cases = {
      {DataType::kUInt8, per_tensor(0.1f, 131), {131}},
      {DataType::kInt8, per_tensor(0.1f, -7), {static_cast<uint8_t>(-7)}},
      {DataType::kFloat32, {}, {0, 0, 0, 0}},
      {DataType::kInt32, {}, {0, 0, 0, 0}},
      {DataType::kInt64, {}, {0, 0, 0, 0, 0, 0, 0, 0}},
  };
  for (int trial = 0; trial < 150; ++trial) {
    const TypeCase& c = cases[trial % cases.size()];
    const bool v2 = trial % 3 == 1;
    const size_t rank = 1 + rng() % 5;
    std::vector<int32_t> in_shape, out_shape, before, pairs;
    for (size_t d = 0; d < rank; ++d) {
      in_shape.push_back(1 + static_cast<int32_t>(rng() % 4));
      before.push_back(static_cast<int32_t>(rng() % 3));
      const auto after = static_cast<int32_t>(rng() % 3);
      out_shape.push_back(before.back() + in_shape.back() + after);
      pairs.push_back(before.back());
      pairs.push_back(after);
    }
    OpGraph g;
    const int in = g.add_tensor(c.type, in_shape, c.quant);
    const auto r = static_cast<int32_t>(rank);
    const int paddings = trial % 2 == 0
                             ? g.add_constant(DataType::kInt32, {r, 2}, pairs)
                             : g.add_constant(DataType::kInt64, {r, 2},
                                              std::vector<int64_t>(pairs.begin(), pairs.end()));
    const int out = g.add_tensor(c.type, out_shape, c.quant);
    const size_t element = data_type_size(c.type);
    std::vector<uint8_t> pad = c.pad;
    if (v2) {
      pad = random_ints<uint8_t>(element, 0, 255, rng);
      const int value =
          g.add_tensor(c.type, trial % 2 ? std::vector<int32_t>{} : std::vector{1}, c.quant);
      g.tensor(value).data = pad;
      g.tensor(value).is_constant = true;
      g.set_op(OpType::kPadV2, {in, paddings, value}, {out});
    } else {
      g.set_op(OpType::kPad, {in, paddings}, {out});
    }
    const int64_t in_elements = g.tensor(in).num_elements();
    const std::vector<uint8_t> x =
        random_ints<uint8_t>(static_cast<size_t>(in_elements) * element, 0, 255, rng);
    const std::vector<uint8_t> y = g.run({{in, x}}, 1 + trial % 3);
    const int64_t out_elements = g.tensor(out).num_elements();
    ASSERT_EQ(y.size(), static_cast<size_t>(out_elements) * element);
    for (int64_t i = 0; i < out_elements; ++i) {
      const int64_t s = padded_source(i, in_shape, out_shape, before);
      const uint8_t* expected = s < 0 ? pad.data() : x.data() + s * element;
      ASSERT_TRUE(std::equal(expected, expected + element, y.begin() + i * element))
          << "trial " << trial << " element " << i << (s < 0 ? " (padding)" : "");
    }
  }
}

TEST(PadTest, PadV2WithoutValuePadsLikePad) {
  OpGraph g;
  const int in = g.add_tensor(DataType::kInt8, {1, 2}, per_tensor(0.2f, 5));
  const int paddings = g.add_constant(DataType::kInt32, {2, 2}, std::vector<int32_t>{0, 0, 1, 1});
  const int out = g.add_tensor(DataType::kInt8, {1, 4}, per_tensor(0.2f, 5));
  g.set_op(OpType::kPadV2, {in, paddings, kNoTensor}, {out});
  EXPECT_EQ(from_bytes<int8_t>(g.run({{in, to_bytes(std::vector<int8_t>{-100, 100})}})),
            (std::vector<int8_t>{5, -100, 100, 5}));
}

TEST(PadErrorTest, Errors) {
  OpGraph g;
  const int in = g.add_tensor(DataType::kFloat32, {2, 3});
  const int paddings = g.add_constant(DataType::kInt32, {2, 2}, std::vector<int32_t>{0, -1, 1, 1});
  const int out = g.add_tensor(DataType::kFloat32, {2, 5});
  g.set_op(OpType::kPad, {in, paddings}, {out});
  EXPECT_EQ(g.create_error(),
            "op 0 (PAD): paddings of dimension 0 must be in [0, 2147483647], got -1");
  g.tensor(paddings).data = to_bytes(std::vector<int32_t>{0, 0, 1, 2});
  EXPECT_EQ(g.create_error(),
            "op 0 (PAD): output shape [2,5] does not match the computed shape [2,6]");
  g.tensor(paddings).data = to_bytes(std::vector<int32_t>{0, 0, 1, 1});
  EXPECT_EQ(g.create_error(), "");
  g.tensor(paddings).shape = {4};
  EXPECT_EQ(g.create_error(), "op 0 (PAD): paddings must have shape [2,2], got [4]");
  g.tensor(paddings).shape = {2, 2};
  g.tensor(paddings).is_constant = false;
  EXPECT_EQ(g.create_error(), "op 0 (PAD): paddings must be a constant tensor");
  g.tensor(paddings).is_constant = true;
  g.tensor(in).type = g.tensor(out).type = DataType::kBool;
  EXPECT_EQ(g.create_error(),
            "op 0 (PAD): input must be float32, int32, int64, uint8 or int8, got bool");
  g.tensor(in).type = g.tensor(out).type = DataType::kUInt8;
  EXPECT_EQ(g.create_error(), "op 0 (PAD): output has no quantization parameters");
  g.tensor(in).type = g.tensor(out).type = DataType::kFloat32;
  const int value = g.add_constant(DataType::kInt32, {1}, std::vector<int32_t>{3});
  g.set_op(OpType::kPadV2, {in, paddings, value}, {out});
  EXPECT_EQ(g.create_error(),
            "op 0 (PADV2): constant_values must be float32 like the input, got int32");
  g.tensor(value).type = DataType::kFloat32;
  g.tensor(value).shape = {2};
  g.tensor(value).data = to_bytes(std::vector<float>{1, 2});
  EXPECT_EQ(g.create_error(), "op 0 (PADV2): constant_values must hold one value, got shape [2]");
  g.op().inputs = {in};
  EXPECT_EQ(g.create_error(), "op 0 (PADV2): expected 2 to 3 inputs, got 1");
}

}  // namespace
}  // namespace qseg::test

// Export and conversion: the published uint8 dm0.5 file imported and converted back with its own
// ranges gives the same ops, shapes, scales and weight codes, and the same labels in qseg's
// runtime; a float model exports to the same function; quantized conversion needs every range.
#include "convert/convert.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>

#include "qseg/interpreter.h"
#include "qseg/tflite.h"
#include "test_util.h"
#include "model/checkpoint_file.h"
#include "model/tflite_weights.h"

namespace qseg::convert {
namespace {

struct Imported {
  Graph original;
  FrozenGraph frozen;
};

Imported import_and_export(const std::string& model, int input_size, int output_stride,
                           const std::string& tag) {
  const auto path = test::shared_path("models/" + model);
  const auto out = test::temp_dir("convert_" + tag) / "imported.ckpt";
  const test::CommandResult r = test::run_command(
      test::qseg_binary().string() + " import --no-check --tflite " + path.string() + " --out " +
      out.string() + " --input-size " + std::to_string(input_size) + " --output-stride " +
      std::to_string(output_stride));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  auto checkpoint = model::read_checkpoint_file(out);
  EXPECT_TRUE(checkpoint.is_ok()) << checkpoint.status().message();
  auto frozen = export_checkpoint(checkpoint.value(), out.string(), {});
  EXPECT_TRUE(frozen.is_ok()) << frozen.status().message();
  auto original = read_tflite_file(path);
  EXPECT_TRUE(original.is_ok());
  return {std::move(original.value()), std::move(frozen.value())};
}

std::vector<const Op*> ops_of(const Graph& g, OpType type) {
  std::vector<const Op*> ops;
  for (const Op& op : g.ops) {
    if (op.type == type) ops.push_back(&op);
  }
  return ops;
}

TEST(ConvertTest, Uint8Dm05RoundTripKeepsOpsScalesAndCodes) {
  const Imported m = import_and_export("deeplabv3_mnv2_dm05_pascal_quant.tflite", 513, 16, "rt");
  ASSERT_TRUE(m.frozen.has_all_ranges());
  auto converted = convert_graph(m.frozen, {});
  ASSERT_TRUE(converted.is_ok()) << converted.status().message();
  const Graph& g = converted.value();
  const Graph& o = m.original;

  // The same ops, but for the published file's no-op RESIZE_BILINEAR 33x33 -> 33x33.
  for (OpType type :
       {OpType::kConv2d, OpType::kDepthwiseConv2d, OpType::kAdd, OpType::kAveragePool2d,
        OpType::kConcatenation, OpType::kQuantize, OpType::kArgMax}) {
    EXPECT_EQ(ops_of(g, type).size(), ops_of(o, type).size()) << op_type_name(type);
  }
  EXPECT_EQ(ops_of(g, OpType::kResizeBilinear).size() + 1,
            ops_of(o, OpType::kResizeBilinear).size());
  const Tensor& in_g = g.tensors[g.inputs[0]];
  const Tensor& in_o = o.tensors[o.inputs[0]];
  EXPECT_EQ(in_g.type, DataType::kUInt8);
  EXPECT_EQ(in_g.shape, in_o.shape);
  EXPECT_EQ(in_g.quant.scale, in_o.quant.scale);
  EXPECT_EQ(in_g.quant.zero_point, in_o.quant.zero_point);
  EXPECT_EQ(g.tensors[g.outputs[0]].type, DataType::kInt64);
  EXPECT_EQ(g.tensors[g.outputs[0]].shape, o.tensors[o.outputs[0]].shape);

  // Convolutions by layer (the published file runs aspp0 before the image-pooling branch):
  // weights bit-identical, biases and output grids the same.
  auto by_layer = [](const Graph& graph) {
    std::map<std::string, const Op*> layers;
    for (const Op& op : graph.ops) {
      if (op.type == OpType::kConv2d || op.type == OpType::kDepthwiseConv2d)
        layers[model::layer_scope_from_tensor_name(graph.tensors[op.inputs[1]].name)] = &op;
    }
    return layers;
  };
  const auto layers_g = by_layer(g), layers_o = by_layer(o);
  ASSERT_EQ(layers_g.size(), 55u);
  std::vector<const Op*> all_g, all_o;
  for (const auto& [name, op] : layers_g) {
    ASSERT_TRUE(layers_o.count(name)) << name;
    all_g.push_back(op);
    all_o.push_back(layers_o.at(name));
  }
  int64_t bias_off_by_one = 0, bias_values = 0;
  for (size_t i = 0; i < all_g.size(); ++i) {
    const Tensor& wg = g.tensors[all_g[i]->inputs[1]];
    const Tensor& wo = o.tensors[all_o[i]->inputs[1]];
    SCOPED_TRACE(wg.name);
    EXPECT_EQ(wg.shape, wo.shape);
    EXPECT_EQ(wg.type, DataType::kUInt8);
    EXPECT_EQ(wg.data, wo.data);
    EXPECT_EQ(wg.quant.scale, wo.quant.scale);
    EXPECT_EQ(wg.quant.zero_point, wo.quant.zero_point);
    const Tensor& bg = g.tensors[all_g[i]->inputs[2]];
    const Tensor& bo = o.tensors[all_o[i]->inputs[2]];
    ASSERT_EQ(bg.type, DataType::kInt32);
    ASSERT_EQ(bg.num_elements(), bo.num_elements());
    for (int64_t k = 0; k < bg.num_elements(); ++k) {
      const int64_t d = std::llabs(int64_t{bg.data_as<int32_t>()[k]} - bo.data_as<int32_t>()[k]);
      EXPECT_LE(d, 1);
      bias_off_by_one += d;
      ++bias_values;
    }
    const Tensor& og = g.tensors[all_g[i]->outputs[0]];
    const Tensor& oo = o.tensors[all_o[i]->outputs[0]];
    EXPECT_EQ(og.shape, oo.shape);
    EXPECT_NEAR(og.quant.scale[0], oo.quant.scale[0], 1e-6 * oo.quant.scale[0]);
    EXPECT_EQ(og.quant.zero_point, oo.quant.zero_point);
  }
  std::printf(
      "round trip: %zu convolutions, weights bit-identical, %lld of %lld bias values one "
      "step off\n",
      all_g.size(), static_cast<long long>(bias_off_by_one), static_cast<long long>(bias_values));

  // The same labels in qseg's runtime on the bird photo at 513.
  const std::vector<uint8_t> input =
      test::read_maybe_gzipped(test::shared_path("golden/bird_segmentation_513.rgb.gz"));
  const double agreement =
      test::int64_label_agreement(test::run_graph(g, input), test::run_graph(o, input));
  std::printf("round trip: ArgMax agreement with the original in qseg's runtime %.5f\n", agreement);
  EXPECT_GE(agreement, 0.999);
}

TEST(ConvertTest, FloatExportComputesTheImportedFunction) {
  // The float 257 model at its own size and stride: exported float graph vs the file's logits.
  const Imported m = import_and_export("deeplabv3_257_mv_gpu.tflite", 257, 8, "float");
  ConvertOptions options;
  options.inference_type = InferenceType::kFloat;
  options.uint8_input = false;
  options.output = OutputArray::kLogits;
  auto converted = convert_graph(m.frozen, options);
  ASSERT_TRUE(converted.is_ok()) << converted.status().message();
  std::vector<float> pixels(257 * 257 * 3);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = std::sin(0.01f * i);
  std::vector<uint8_t> input(pixels.size() * 4);
  std::memcpy(input.data(), pixels.data(), input.size());
  const auto a = test::run_graph(converted.value(), input);
  const auto b = test::run_graph(m.original, input);
  ASSERT_EQ(a.size(), b.size());
  double diff = 0, norm = 0;
  for (size_t i = 0; i < a.size() / 4; ++i) {
    float x, y;
    std::memcpy(&x, &a[i * 4], 4);
    std::memcpy(&y, &b[i * 4], 4);
    diff += (x - y) * (x - y);
    norm += y * y;
  }
  std::printf("float export: logits relative L2 %.3g\n", std::sqrt(diff / norm));
  EXPECT_LT(std::sqrt(diff / norm), 1e-5);

  // No ranges: a quantized conversion is refused with the tensor named.
  EXPECT_FALSE(m.frozen.has_all_ranges());
  auto refused = convert_graph(m.frozen, {});
  ASSERT_FALSE(refused.is_ok());
  EXPECT_NE(refused.status().message().find("has no activation range"), std::string::npos);
}

}  // namespace
}  // namespace qseg::convert

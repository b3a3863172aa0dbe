// A .tflite's DeepLab weights as a folded checkpoint in memory (model/imported_model.h): what
// `qseg import` writes and `qseg convert --tflite` converts.
#include "model/imported_model.h"

#include <gtest/gtest.h>

#include "qseg/tflite.h"
#include "test_util.h"

namespace qseg::model {
namespace {

ImportedWeights dm05_weights() {
  const auto path = test::shared_path("models/deeplabv3_mnv2_dm05_pascal_quant.tflite");
  auto graph = read_tflite_file(path);
  EXPECT_TRUE(graph.is_ok()) << graph.status().message();
  auto weights = extract_deeplab_weights(graph.value(), "dm05.tflite");
  EXPECT_TRUE(weights.is_ok()) << weights.status().message();
  return weights.value();
}

TEST(ImportedModelTest, EveryLayerRangeAndWeightGridOfTheFile) {
  const ImportedWeights weights = dm05_weights();
  auto file = imported_checkpoint(weights, 8, 321);
  ASSERT_TRUE(file.is_ok()) << file.status().message();
  const CheckpointFile& c = file.value();
  auto config = config_from_json(c.meta["model"]);
  ASSERT_TRUE(config.is_ok());
  EXPECT_EQ(config.value().output_stride, 8);
  EXPECT_EQ(config.value().input_height, 321);
  EXPECT_EQ(config.value().input_width, 321);
  EXPECT_TRUE(config.value().folded);
  EXPECT_TRUE(c.quantized());
  EXPECT_EQ(c.meta["origin"]["import"], "dm05.tflite");
  auto spec = deeplab_spec(config.value());
  ASSERT_TRUE(spec.is_ok());
  // Weights and biases in layer order, then the ranges (layers' first), then the weight grids.
  ASSERT_EQ(c.tensors.size(), 2 * spec.value().layers.size() + weights.ranges.size() + 55);
  for (size_t i = 0; i < spec.value().layers.size(); ++i) {
    const LayerSpec& layer = spec.value().layers[i];
    const ImportedLayer& source = weights.layers.at(layer.name);
    EXPECT_EQ(c.tensors[2 * i].name, weight_name(layer));
    EXPECT_EQ(c.tensors[2 * i].shape, source.weight_shape);
    EXPECT_EQ(c.tensors[2 * i].data, source.weight);
    EXPECT_EQ(c.tensors[2 * i + 1].name, layer.name + "/biases");
    EXPECT_EQ(c.tensors[2 * i + 1].data, source.bias);
  }
  for (const auto& [scope, range] : weights.ranges) {
    const CheckpointTensor* t = c.find(range_name(scope));
    ASSERT_NE(t, nullptr) << scope;
    EXPECT_EQ(t->data, (std::vector<float>{range.first, range.second}));
  }
  const CheckpointTensor* grid = c.find("MobilenetV2/Conv/weights_quantization");
  ASSERT_NE(grid, nullptr);
  EXPECT_EQ(grid->data[0], weights.layers.at("MobilenetV2/Conv").weight_scale);
}

TEST(ImportedModelTest, NamesTheFileAndTheLayerThatDoesNotFit) {
  ImportedWeights missing = dm05_weights();
  missing.layers.erase("aspp0");
  auto a = imported_checkpoint(missing, 16, 513);
  ASSERT_FALSE(a.is_ok());
  EXPECT_EQ(a.status().message(), "dm05.tflite: has no layer aspp0 (depth multiplier 0.500000)");

  ImportedWeights reshaped = dm05_weights();
  reshaped.layers.at("logits/semantic").bias.pop_back();
  auto b = imported_checkpoint(reshaped, 16, 513);
  ASSERT_FALSE(b.is_ok());
  EXPECT_NE(b.status().message().find("layer logits/semantic has weights of another shape"),
            std::string::npos)
      << b.status().message();

  ImportedWeights extra = dm05_weights();
  extra.layers["decoder/extra"] = extra.layers.at("aspp0");
  auto c = imported_checkpoint(extra, 16, 513);
  ASSERT_FALSE(c.is_ok());
  EXPECT_NE(c.status().message().find("has 56 convolutions"), std::string::npos)
      << c.status().message();

  ImportedWeights bad_stride = dm05_weights();
  EXPECT_FALSE(imported_checkpoint(bad_stride, 12, 513).is_ok());
}

}  // namespace
}  // namespace qseg::model

// The DeepLab layer list: channel counts and strides of the published graphs, SAME padding,
// config validation and JSON.
#include "model/model_config.h"

#include <gtest/gtest.h>

namespace qseg::model {
namespace {

TEST(ModelConfigTest, MakeDivisibleMatchesMobileNetV2) {
  EXPECT_EQ(make_divisible(16, 8, 8), 16);
  EXPECT_EQ(make_divisible(36, 8, 8), 40);
  EXPECT_EQ(make_divisible(12, 8, 8), 16);
  EXPECT_EQ(make_divisible(12, 1, 1), 12);
  EXPECT_EQ(make_divisible(4, 8, 8), 8);
  EXPECT_EQ(make_divisible(17, 8, 8), 16);  // 16 >= 0.9 * 17
  EXPECT_EQ(make_divisible(19, 8, 8), 24);  // 16 < 0.9 * 19
}

TEST(ModelConfigTest, Dm05MatchesThePublishedGraph) {
  DeepLabConfig config;
  config.depth_multiplier = 0.5f;
  config.output_stride = 16;
  auto spec = deeplab_spec(config);
  ASSERT_TRUE(spec.is_ok()) << spec.status().message();
  const DeepLabSpec& s = spec.value();
  EXPECT_EQ(s.layers.size(), 1u + 1 * 2 + 16 * 3 + 4);  // stem, 17 blocks, head
  EXPECT_EQ(s.layers[s.stem].out_channels, 16);
  EXPECT_EQ(s.layers[s.stem].stride, 2);
  const LayerSpec& project1 = s.layers[s.index_of("MobilenetV2/expanded_conv_1/project")];
  EXPECT_EQ(project1.out_channels, 12);
  EXPECT_EQ(project1.in_channels, 48);
  EXPECT_EQ(s.layers[s.index_of("MobilenetV2/expanded_conv_16/project")].out_channels, 160);
  EXPECT_EQ(s.layers[s.index_of("MobilenetV2/expanded_conv_16/expand")].out_channels, 480);
  // Output stride 16: expanded_conv_13 loses its stride, 14..16 become rate 2.
  EXPECT_EQ(s.layers[s.index_of("MobilenetV2/expanded_conv_13/depthwise")].stride, 1);
  EXPECT_EQ(s.layers[s.index_of("MobilenetV2/expanded_conv_13/depthwise")].dilation, 1);
  EXPECT_EQ(s.layers[s.index_of("MobilenetV2/expanded_conv_14/depthwise")].dilation, 2);
  EXPECT_EQ(s.layers[s.index_of("MobilenetV2/expanded_conv_6/depthwise")].stride, 2);
  EXPECT_FALSE(s.blocks[0].residual);
  EXPECT_EQ(s.blocks[0].expand, -1);
  EXPECT_TRUE(s.blocks[2].residual);
  EXPECT_EQ(s.layers[s.concat_projection].in_channels, 512);
  EXPECT_EQ(s.layers[s.logits].out_channels, 21);
  EXPECT_TRUE(s.layers[s.logits].bias);
  EXPECT_FALSE(s.layers[s.logits].batch_norm);
  EXPECT_TRUE(s.layers[s.aspp0].batch_norm);
  EXPECT_FLOAT_EQ(s.layers[s.aspp0].batch_norm_epsilon, 1e-5f);
}

TEST(ModelConfigTest, OutputStride8UsesRates2And4) {
  DeepLabConfig config;
  config.output_stride = 8;
  auto spec = deeplab_spec(config);
  ASSERT_TRUE(spec.is_ok());
  const DeepLabSpec& s = spec.value();
  EXPECT_EQ(s.layers[s.index_of("MobilenetV2/expanded_conv_6/depthwise")].stride, 1);
  EXPECT_EQ(s.layers[s.index_of("MobilenetV2/expanded_conv_7/depthwise")].dilation, 2);
  EXPECT_EQ(s.layers[s.index_of("MobilenetV2/expanded_conv_13/depthwise")].dilation, 2);
  EXPECT_EQ(s.layers[s.index_of("MobilenetV2/expanded_conv_14/depthwise")].dilation, 4);
}

TEST(ModelConfigTest, Dm10RoundsToMultiplesOf8) {
  DeepLabConfig config;
  config.depth_multiplier = 1.0f;
  auto spec = deeplab_spec(config);
  ASSERT_TRUE(spec.is_ok());
  const DeepLabSpec& s = spec.value();
  EXPECT_EQ(s.layers[s.stem].out_channels, 32);
  EXPECT_EQ(s.layers[s.index_of("MobilenetV2/expanded_conv_16/project")].out_channels, 320);
  for (const LayerSpec& l : s.layers) {
    if (&l != &s.layers[s.logits]) {
      EXPECT_EQ(l.out_channels % 8, 0) << l.name;
    }
  }
}

TEST(ModelConfigTest, AsppRatesAndDecoderAddLayers) {
  DeepLabConfig config;
  config.aspp_rates = {6, 12, 18};
  config.decoder_output_stride = 4;
  auto spec = deeplab_spec(config);
  ASSERT_TRUE(spec.is_ok()) << spec.status().message();
  const DeepLabSpec& s = spec.value();
  EXPECT_EQ(s.aspp.size(), 3u);
  EXPECT_EQ(s.layers[s.aspp[2].depthwise].dilation, 18);
  EXPECT_EQ(s.layers[s.concat_projection].in_channels, 5 * 256);
  EXPECT_GE(s.index_of("decoder/feature_projection0"), 0);
  EXPECT_EQ(s.layers[s.decoder[0].depthwise].in_channels, 256 + 48);
  EXPECT_EQ(s.decoder_block, 2);
}

TEST(ModelConfigTest, FoldedLayersHaveBiasesNotBatchNorm) {
  DeepLabConfig config;
  config.folded = true;
  auto spec = deeplab_spec(config);
  ASSERT_TRUE(spec.is_ok());
  for (const LayerSpec& l : spec.value().layers) {
    EXPECT_FALSE(l.batch_norm) << l.name;
    EXPECT_TRUE(l.bias) << l.name;
  }
}

TEST(ModelConfigTest, SamePaddingIsTensorFlows) {
  const SamePadding odd = same_padding(513, 3, 2, 1);
  EXPECT_EQ(odd.output, 257);
  EXPECT_EQ(odd.before, 1);
  EXPECT_EQ(odd.after, 1);
  const SamePadding even = same_padding(64, 3, 2, 1);
  EXPECT_EQ(even.output, 32);
  EXPECT_EQ(even.before, 0);
  EXPECT_EQ(even.after, 1);
  const SamePadding dilated = same_padding(33, 3, 1, 4);
  EXPECT_EQ(dilated.before, 4);
  EXPECT_EQ(dilated.after, 4);
}

TEST(ModelConfigTest, RejectsBadConfigs) {
  DeepLabConfig c;
  c.output_stride = 12;
  EXPECT_FALSE(validate(c).is_ok());
  c = {};
  c.depth_multiplier = 0;
  EXPECT_FALSE(validate(c).is_ok());
  c = {};
  c.decoder_output_stride = 16;
  EXPECT_FALSE(validate(c).is_ok());
  c = {};
  c.num_classes = 0;
  EXPECT_FALSE(validate(c).is_ok());
}

TEST(ModelConfigTest, JsonRoundTrips) {
  DeepLabConfig c;
  c.depth_multiplier = 0.25f;
  c.aspp_rates = {6, 12};
  c.folded = true;
  auto back = config_from_json(config_to_json(c));
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ(config_to_json(back.value()), config_to_json(c));
  EXPECT_FALSE(config_from_json(nlohmann::json{{"depth_multiplier", 1}}).is_ok());
}

TEST(ModelConfigTest, NonSquareInputsRoundTripAndOldSquareJsonStillReads) {
  DeepLabConfig c;
  c.input_height = 384;
  c.input_width = 640;
  auto back = config_from_json(config_to_json(c));
  ASSERT_TRUE(back.is_ok()) << back.status().message();
  EXPECT_EQ(back.value().input_height, 384);
  EXPECT_EQ(back.value().input_width, 640);
  // A checkpoint written before non-square inputs has one "input_size" for both sides.
  nlohmann::json old = config_to_json(DeepLabConfig{});
  old.erase("input_height");
  old.erase("input_width");
  old["input_size"] = 321;
  auto read = config_from_json(old);
  ASSERT_TRUE(read.is_ok()) << read.status().message();
  EXPECT_EQ(read.value().input_height, 321);
  EXPECT_EQ(read.value().input_width, 321);
  // One side out of range is refused, naming both.
  c.input_width = 16;
  const Status refused = validate(c);
  ASSERT_FALSE(refused.is_ok());
  EXPECT_NE(refused.message().find("384x16"), std::string::npos) << refused.message();
}

}  // namespace
}  // namespace qseg::model

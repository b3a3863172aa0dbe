// Import of the published .tflite files: the libtorch model against qseg's runtime at the file's
// own input size and output stride, and the weights reused at another size and stride.
#include "train/import.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "test_util.h"
#include "train/support/files.h"

namespace qseg::train {
namespace {

struct Loaded {
  Graph graph;
  ImportedWeights weights;
};

Loaded load(const std::string& model) {
  const auto path = test::shared_path("models/" + model);
  auto graph = read_tflite_graph(path);
  EXPECT_TRUE(graph.is_ok()) << graph.status().message();
  auto weights = extract_deeplab_weights(graph.value(), path.string());
  EXPECT_TRUE(weights.is_ok()) << weights.status().message();
  return {std::move(graph.value()), std::move(weights.value())};
}

Image bird() {
  auto image = read_photo(test::shared_path("images/bird_segmentation.bmp"));
  EXPECT_TRUE(image.is_ok()) << image.status().message();
  return image.value();
}

TEST(ImportTest, LayerScopesFromTensorNames) {
  EXPECT_EQ(layer_scope_from_tensor_name("MobilenetV2/Conv/weights"), "MobilenetV2/Conv");
  EXPECT_EQ(layer_scope_from_tensor_name(
                "MobilenetV2/expanded_conv/depthwise/depthwise_Fold;MobilenetV2/x"),
            "MobilenetV2/expanded_conv/depthwise");
  EXPECT_EQ(layer_scope_from_tensor_name(
                "logits/semantic/Conv2D;logits/semantic/weights_quant/FakeQuant"),
            "logits/semantic");
  EXPECT_EQ(layer_scope_from_tensor_name("aspp0"), "");
}

TEST(ImportTest, Uint8Dm05MatchesTheRuntime) {
  const Loaded m = load("deeplabv3_mnv2_dm05_pascal_quant.tflite");
  EXPECT_TRUE(m.weights.quantized);
  EXPECT_EQ(m.weights.output_stride, 16);
  EXPECT_FLOAT_EQ(m.weights.depth_multiplier, 0.5f);
  EXPECT_EQ(m.weights.ranges.size(), 55u + 10u + 1u);  // every conv, every add, the concat
  auto check = check_import(m.graph, m.weights, bird(), 2);
  ASSERT_TRUE(check.is_ok()) << check.status().message();
  const ImportCheck& c = check.value();
  std::printf(
      "uint8 dm0.5 at 513/OS16: each layer alone: >= %.5f of outputs within one step, >= %.4f on "
      "the same code; whole model: logits within one step %.4f, relative L2 %.4f, labels agree "
      "%.4f\n",
      c.worst_layer_within_one_step, c.worst_layer_exact, c.logits_within_one_step,
      c.logits_relative_l2, c.label_agreement);
  // Each layer alone: only the runtime's integer rounding (which can be one step off the exact
  // product) separates the two.
  EXPECT_GT(c.worst_layer_within_one_step, 0.999);
  // The whole model: those one-step differences grow through 55 layers. Measured on the bird:
  // 0.9898 with the runtime's default (XNNPACK) arithmetic, 0.9925 with TFLite's fixed point.
  EXPECT_GT(c.label_agreement, 0.985);
}

TEST(ImportTest, FloatDm05MatchesTheRuntime) {
  const Loaded m = load("deeplabv3_257_mv_gpu.tflite");
  EXPECT_FALSE(m.weights.quantized);
  EXPECT_EQ(m.weights.output_stride, 8);
  EXPECT_EQ(m.weights.input_size, 257);
  auto check = check_import(m.graph, m.weights, bird(), 2);
  ASSERT_TRUE(check.is_ok()) << check.status().message();
  const ImportCheck& c = check.value();
  std::printf(
      "float dm0.5 at 257/OS8: logits relative L2 %.3g, max |diff| %.3g, labels agree %.5f, worst "
      "single layer %s relative L2 %.3g\n",
      c.logits_relative_l2, c.logits_max_abs_diff, c.label_agreement, c.worst_layer.c_str(),
      c.worst_layer_relative_l2);
  EXPECT_LT(c.logits_relative_l2, 1e-4);
  EXPECT_LT(c.worst_layer_relative_l2, 1e-5);
  EXPECT_GT(c.label_agreement, 0.999);
}

TEST(ImportTest, FloatModelBecomes513Os16) {
  const Loaded m = load("deeplabv3_257_mv_gpu.tflite");
  auto model = build_imported_model(m.weights, 16, 513);
  ASSERT_TRUE(model.is_ok()) << model.status().message();
  EXPECT_EQ(model.value().config().output_stride, 16);
  EXPECT_EQ(model.value().config().input_height, 513);
  EXPECT_EQ(model.value().config().input_width, 513);
  EXPECT_TRUE(model.value().config().folded);
  torch::NoGradGuard no_grad;
  const torch::Tensor logits = model.value().forward(torch::zeros({1, 3, 513, 513}), {});
  EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{1, 21, 33, 33}));
}

TEST(ImportTest, NotADeepLabIsAnError) {
  Graph graph;
  Tensor input;
  input.shape = {1, 9, 9, 3};
  graph.tensors.push_back(input);
  graph.inputs = {0};
  auto weights = extract_deeplab_weights(graph, "empty.tflite");
  ASSERT_FALSE(weights.is_ok());
  EXPECT_NE(weights.status().message().find("empty.tflite"), std::string::npos);
}

}  // namespace
}  // namespace qseg::train

// qseg diff of models that end in ArgMax over float scores (as models/qseg_dm05_float.tflite
// does): where the two sides' labels differ, the scores beside them tell float rounding's near
// ties (the two classes within 1e-5 of the scores' range) from real differences.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "eval/eval_test_util.h"
#include "qseg/tflite.h"
#include "test_util.h"
#include "tiny_model.h"

namespace qseg {
namespace {

using test::quoted;

// input float [1,1,3,2] + bias [2] -> scores -> ARG_MAX over the classes -> int64 labels [1,1,3].
std::filesystem::path write_model(const std::filesystem::path& path, float bias1) {
  Graph g;
  auto add = [&](Tensor t) {
    g.tensors.push_back(std::move(t));
    return static_cast<int32_t>(g.tensors.size() - 1);
  };
  Tensor bias = test::make_tensor("bias", DataType::kFloat32, {2});
  const float values[2] = {0.0f, bias1};
  bias.data.resize(sizeof values);
  std::memcpy(bias.data.data(), values, sizeof values);
  bias.is_constant = true;
  Tensor axis = test::make_tensor("axis", DataType::kInt32, {1});
  axis.data = {3, 0, 0, 0};
  axis.is_constant = true;
  const int32_t in = add(test::make_tensor("input", DataType::kFloat32, {1, 1, 3, 2}));
  const int32_t b = add(bias);
  const int32_t scores = add(test::make_tensor("scores", DataType::kFloat32, {1, 1, 3, 2}));
  const int32_t ax = add(axis);
  const int32_t labels = add(test::make_tensor("labels", DataType::kInt64, {1, 1, 3}));
  Op sum;
  sum.type = OpType::kAdd;
  sum.inputs = {in, b};
  sum.outputs = {scores};
  sum.options = AddOptions{};
  Op arg_max;
  arg_max.type = OpType::kArgMax;
  arg_max.inputs = {scores, ax};
  arg_max.outputs = {labels};
  arg_max.options = ArgMaxOptions{DataType::kInt64};
  g.ops = {sum, arg_max};
  g.inputs = {in};
  g.outputs = {labels};
  const Status status = write_tflite_file(g, path);
  EXPECT_TRUE(status.is_ok()) << status.message();
  return path;
}

TEST(DiffCli, LabelsOfFloatScoresTellNearTiesFromDifferences) {
  const auto dir = test::temp_dir("diff_float_labels");
  const auto a = write_model(dir / "a.tflite", 0.0f);
  const auto tie = write_model(dir / "tie.tflite", 1e-7f);  // flips the exact tie only
  const auto far = write_model(dir / "far.tflite", 0.6f);   // flips two labels, one for real
  const auto copy = write_model(dir / "copy.tflite", 0.0f);
  // Three pixels of two class scores: an exact tie, 1 against 0.5, 0 against 2.
  const float input[6] = {1.0f, 1.0f, 1.0f, 0.5f, 0.0f, 2.0f};
  std::vector<uint8_t> bytes(sizeof input);
  std::memcpy(bytes.data(), input, sizeof input);
  const auto raw = dir / "input.raw";
  test::write_file(raw, bytes);
  auto diff = [&](const std::filesystem::path& b) {
    return test::run_command(test::qseg_command("diff --a qseg --b qseg --model " + quoted(a) +
                                                " --model-b " + quoted(b) + " --no-layers --raw " +
                                                quoted(raw)));
  };

  const auto near = diff(tie);
  ASSERT_EQ(near.exit_code, 0) << near.output;
  EXPECT_NE(near.output.find("output differs, 66.6667% of pixels agree, largest score difference"),
            std::string::npos)
      << near.output;
  EXPECT_NE(near.output.find("(1 near ties)"), std::string::npos) << near.output;
  EXPECT_NE(near.output.find("where labels differ (within 1e-5), 0 pixels differ beyond near "
                             "ties (1 near ties)"),
            std::string::npos)
      << near.output;

  // (The tied pixel counts as a near tie: A's scores tie there. What says the two models differ
  // is the scores' difference, beyond 1e-5, that scripts/conformance.sh also checks.)
  const auto real = diff(far);
  ASSERT_EQ(real.exit_code, 0) << real.output;
  EXPECT_NE(real.output.find("output differs, 33.3333% of pixels agree"), std::string::npos)
      << real.output;
  EXPECT_NE(real.output.find("(beyond 1e-5), 1 pixels differ beyond near ties (1 near ties)"),
            std::string::npos)
      << real.output;

  const auto same = diff(copy);
  ASSERT_EQ(same.exit_code, 0) << same.output;
  EXPECT_NE(same.output.find("output identical"), std::string::npos) << same.output;
  EXPECT_NE(same.output.find("0 pixels differ beyond near ties (0 near ties)"), std::string::npos)
      << same.output;
}

}  // namespace
}  // namespace qseg

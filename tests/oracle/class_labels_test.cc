// A model that carries its class names (the "qseg_labels" metadata entry and its buffer) still
// runs in the real TensorFlow Lite, with the same output as in qseg and as the same model without
// names: the entry changes nothing TFLite reads. Fails, never skips, without the oracle.
#include <gtest/gtest.h>

#include "oracle_util.h"
#include "qseg/tflite.h"
#include "test_util.h"
#include "tiny_model.h"

namespace qseg {
namespace {

TEST(RealTflite, RunsModelsCarryingClassLabels) {
  const auto dir = test::temp_dir("oracle_class_labels");
  const std::string labels = "road #804080\nsidewalk\nbuilding #464646\ncar #00008E\n";
  for (const bool argmax : {true, false}) {
    SCOPED_TRACE(argmax ? "labels output" : "scores output");
    const auto named = dir / (argmax ? "named_argmax.tflite" : "named_scores.tflite");
    const auto plain = dir / (argmax ? "plain_argmax.tflite" : "plain_scores.tflite");
    ASSERT_TRUE(
        write_tflite_file(test::constant_class_graph(4, 3, argmax, 8, labels), named).is_ok());
    ASSERT_TRUE(write_tflite_file(test::constant_class_graph(4, 3, argmax, 8), plain).is_ok());
    ASSERT_EQ(read_tflite_file(named)->class_labels, labels);
    std::vector<uint8_t> input(8 * 8 * 3);
    for (size_t i = 0; i < input.size(); ++i) input[i] = static_cast<uint8_t>(i * 13);
    auto real_named = test::run_real_tflite(named, input);
    ASSERT_TRUE(real_named.is_ok()) << real_named.status().message();
    auto real_plain = test::run_real_tflite(plain, input);
    ASSERT_TRUE(real_plain.is_ok()) << real_plain.status().message();
    EXPECT_EQ(*real_named, *real_plain);
    EXPECT_EQ(*real_named, test::run_model_file(named, input));
    if (argmax) {  // int32 class ids: 3 everywhere
      ASSERT_EQ(real_named->size(), 8u * 8 * 4);
      for (size_t i = 0; i < real_named->size(); i += 4) ASSERT_EQ((*real_named)[i], 3) << i;
    }
  }
}

}  // namespace
}  // namespace qseg

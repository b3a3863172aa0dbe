// ConfusionMatrix on hand-made cases: void skipped, IoU, mIoU over present classes, merging.
#include "eval/confusion.h"

#include <gtest/gtest.h>

namespace qseg {
namespace {

Image labels_of(int width, int height, std::vector<uint8_t> values) {
  Image image(width, height, 1);
  image.pixels = std::move(values);
  return image;
}

TEST(ConfusionMatrix, CountsPixelsAndSkipsVoid) {
  // label:      0 0 1 1 | 255 2
  // prediction: 0 1 1 1 |  20 0
  const Image labels = labels_of(3, 2, {0, 0, 1, 1, 255, 2});
  const Image prediction = labels_of(3, 2, {0, 1, 1, 1, 20, 0});
  ConfusionMatrix m;
  ASSERT_TRUE(m.add(prediction, labels).is_ok());
  EXPECT_EQ(m.count(0, 0), 1);
  EXPECT_EQ(m.count(0, 1), 1);
  EXPECT_EQ(m.count(1, 1), 2);
  EXPECT_EQ(m.count(2, 0), 1);
  EXPECT_EQ(m.total_pixels(), 5);  // the void pixel is not scored, whatever was predicted there
  EXPECT_EQ(m.correct_pixels(), 3);
  EXPECT_EQ(m.predicted_pixels(20), 0);
  EXPECT_EQ(m.label_pixels(0), 2);
  EXPECT_EQ(m.predicted_pixels(0), 2);

  // class 0: TP 1, FP 1 (the 2 predicted as 0), FN 1 (the 0 predicted as 1): 1/3
  // class 1: TP 2, FP 1, FN 0: 2/3; class 2: TP 0, FN 1: 0. Others absent.
  EXPECT_DOUBLE_EQ(*m.iou(0), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(*m.iou(1), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(*m.iou(2), 0.0);
  EXPECT_FALSE(m.iou(3).has_value());
  EXPECT_FALSE(m.iou(20).has_value());
  EXPECT_EQ(m.present_class_count(), 3);
  EXPECT_DOUBLE_EQ(m.mean_iou(), (1.0 / 3.0 + 2.0 / 3.0 + 0.0) / 3.0);
  EXPECT_DOUBLE_EQ(m.pixel_accuracy(), 3.0 / 5.0);
}

TEST(ConfusionMatrix, ClassOnlyPredictedIsPresentWithZeroIou) {
  ConfusionMatrix m;
  ASSERT_TRUE(m.add(labels_of(2, 1, {7, 0}), labels_of(2, 1, {0, 0})).is_ok());
  EXPECT_TRUE(m.present(7));
  EXPECT_DOUBLE_EQ(*m.iou(7), 0.0);
  EXPECT_DOUBLE_EQ(*m.iou(0), 0.5);
  EXPECT_DOUBLE_EQ(m.mean_iou(), 0.25);
}

TEST(ConfusionMatrix, PerfectPrediction) {
  const Image labels = labels_of(4, 1, {3, 3, 15, 255});
  ConfusionMatrix m;
  ASSERT_TRUE(m.add(labels_of(4, 1, {3, 3, 15, 4}), labels).is_ok());
  EXPECT_DOUBLE_EQ(m.mean_iou(), 1.0);
  EXPECT_DOUBLE_EQ(m.pixel_accuracy(), 1.0);
  EXPECT_EQ(m.present_class_count(), 2);
}

TEST(ConfusionMatrix, EmptyHasZeroScores) {
  ConfusionMatrix m;
  EXPECT_EQ(m.mean_iou(), 0.0);
  EXPECT_EQ(m.pixel_accuracy(), 0.0);
  EXPECT_EQ(m.present_class_count(), 0);
  ASSERT_TRUE(m.add(labels_of(2, 1, {5, 6}), labels_of(2, 1, {255, 255})).is_ok());  // all void
  EXPECT_EQ(m.total_pixels(), 0);
  EXPECT_EQ(m.mean_iou(), 0.0);
}

TEST(ConfusionMatrix, MergeEqualsAddingEverything) {
  const Image l1 = labels_of(3, 1, {0, 1, 2}), p1 = labels_of(3, 1, {0, 2, 2});
  const Image l2 = labels_of(2, 1, {1, 255}), p2 = labels_of(2, 1, {1, 1});
  ConfusionMatrix a, b, all;
  ASSERT_TRUE(a.add(p1, l1).is_ok());
  ASSERT_TRUE(b.add(p2, l2).is_ok());
  ASSERT_TRUE(all.add(p1, l1).is_ok());
  ASSERT_TRUE(all.add(p2, l2).is_ok());
  ConfusionMatrix ab = a, ba = b;
  ab.merge(b);
  ba.merge(a);
  EXPECT_EQ(ab, all);
  EXPECT_EQ(ba, all);
}

TEST(ConfusionMatrix, RejectsBadInputAndStaysUnchanged) {
  ConfusionMatrix m;
  ASSERT_TRUE(m.add(labels_of(1, 1, {1}), labels_of(1, 1, {1})).is_ok());
  const ConfusionMatrix before = m;
  // A prediction outside 0..20, after some valid pixels: nothing is counted.
  Status s = m.add(labels_of(3, 1, {0, 0, 21}), labels_of(3, 1, {0, 0, 0}));
  EXPECT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("predicted class 21"), std::string::npos) << s.message();
  EXPECT_EQ(m, before);
  s = m.add(labels_of(1, 1, {0}), labels_of(1, 1, {50}));
  EXPECT_NE(s.message().find("label value 50"), std::string::npos) << s.message();
  s = m.add(labels_of(2, 1, {0, 0}), labels_of(1, 2, {0, 0}));
  EXPECT_NE(s.message().find("same size"), std::string::npos) << s.message();
  EXPECT_FALSE(m.add(Image(1, 1, 3), labels_of(1, 1, {0})).is_ok());
  EXPECT_EQ(m, before);
}

}  // namespace
}  // namespace qseg

namespace qseg {
namespace {

// Every (label, prediction) pair of `classes` once, plus one pixel of each ignore value.
TEST(ConfusionMatrixSizes, AnyClassCountUpTo256) {
  for (int classes : {2, 19, 151, 256}) {
    SCOPED_TRACE(classes);
    // Labels and predictions: pixel i has label i % classes and prediction (i / classes) %
    // classes, so each of the classes^2 pairs occurs once.
    const int n = classes * classes;
    Image labels(n, 1, 1), prediction(n, 1, 1);
    for (int i = 0; i < n; ++i) {
      labels.pixels[i] = static_cast<uint8_t>(i % classes);
      prediction.pixels[i] = static_cast<uint8_t>((i / classes) % classes);
    }
    ConfusionMatrix m(classes, ConfusionMatrix::kNoIgnoreLabel);
    ASSERT_TRUE(m.add(prediction, labels).is_ok());
    EXPECT_EQ(m.class_count(), classes);
    EXPECT_EQ(m.total_pixels(), n);
    EXPECT_EQ(m.correct_pixels(), classes);
    for (int c = 0; c < classes; ++c) {
      EXPECT_EQ(m.label_pixels(c), classes);
      EXPECT_EQ(m.predicted_pixels(c), classes);
      // TP 1 of a union of 2 * classes - 1 pixels.
      EXPECT_DOUBLE_EQ(*m.iou(c), 1.0 / (2 * classes - 1));
    }
    EXPECT_EQ(m.present_class_count(), classes);
    // A sum of `classes` equal terms, divided: within rounding of the single quotient.
    EXPECT_NEAR(m.mean_iou(), 1.0 / (2 * classes - 1), 1e-15);
    // The first value beyond the classes is refused (there is none beyond 255).
    if (classes < 256) {
      const Status s = m.add(labels_of(1, 1, {0}), labels_of(1, 1, {uint8_t(classes)}));
      EXPECT_FALSE(s.is_ok());
      const Status p = m.add(labels_of(1, 1, {uint8_t(classes)}), labels_of(1, 1, {0}));
      EXPECT_NE(p.message().find("outside 0.." + std::to_string(classes - 1)), std::string::npos)
          << p.message();
    }
  }
}

TEST(ConfusionMatrixSizes, IgnoreLabelIsConfigurable) {
  // 19 classes, ignore 255 (Cityscapes): 255 skipped, 19 is not a class.
  ConfusionMatrix cityscapes(19);
  EXPECT_EQ(cityscapes.ignore_label(), 255);
  ASSERT_TRUE(cityscapes.add(labels_of(3, 1, {0, 18, 5}), labels_of(3, 1, {0, 18, 255})).is_ok());
  EXPECT_EQ(cityscapes.total_pixels(), 2);
  EXPECT_FALSE(cityscapes.add(labels_of(1, 1, {0}), labels_of(1, 1, {19})).is_ok());
  // An ignore label that is a class (DeepLab's ADE20K with 151 classes, 0 ignored): never scored
  // as a label, still counted as a prediction on scored pixels.
  ConfusionMatrix ade(151, 0);
  ASSERT_TRUE(ade.add(labels_of(4, 1, {0, 0, 150, 7}), labels_of(4, 1, {0, 150, 150, 0})).is_ok());
  EXPECT_EQ(ade.total_pixels(), 2);
  EXPECT_EQ(ade.label_pixels(0), 0);
  EXPECT_EQ(ade.count(150, 150), 1);
  EXPECT_EQ(ade.count(150, 0), 1);
  EXPECT_DOUBLE_EQ(*ade.iou(0), 0.0);  // predicted once, never a label: present, IoU 0
  EXPECT_DOUBLE_EQ(*ade.iou(150), 0.5);
  EXPECT_DOUBLE_EQ(ade.mean_iou(), 0.25);
  // 256 classes use every byte: with ignore 255, class 255 is only ever a prediction.
  ConfusionMatrix full(256, 255);
  ASSERT_TRUE(full.add(labels_of(2, 1, {255, 255}), labels_of(2, 1, {255, 254})).is_ok());
  EXPECT_EQ(full.total_pixels(), 1);
  EXPECT_EQ(full.count(254, 255), 1);
  ConfusionMatrix none(256, ConfusionMatrix::kNoIgnoreLabel);
  ASSERT_TRUE(none.add(labels_of(2, 1, {255, 255}), labels_of(2, 1, {255, 254})).is_ok());
  EXPECT_EQ(none.total_pixels(), 2);
  EXPECT_EQ(none.count(255, 255), 1);
  // Merging keeps the class count and adds the counts.
  ConfusionMatrix merged(151, 0);
  merged.merge(ade);
  merged.merge(ade);
  EXPECT_EQ(merged.count(150, 150), 2);
  EXPECT_EQ(merged.class_count(), 151);
}

}  // namespace
}  // namespace qseg

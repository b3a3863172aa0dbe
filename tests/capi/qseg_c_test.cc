// The C API (include/qseg/qseg_c.h): the labels are the Segmenter's, from a file or from memory,
// with any row strides and thread counts; every misuse is a status and a message, never a crash.
#include "qseg/qseg_c.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "imgproc/image_io.h"
#include "qseg/segmenter.h"
#include "qseg/tflite.h"
#include "test_util.h"
#include "tiny_model.h"

extern "C" int qseg_c_header_check(const char* missing_path);

namespace qseg {
namespace {

const char* kModel = "models/deeplabv3_mnv2_dm05_pascal_quant.tflite";

struct ModelDeleter {
  void operator()(qseg_model* m) const { qseg_model_free(m); }
};
using ModelHandle = std::unique_ptr<qseg_model, ModelDeleter>;

// The photo's labels through the C API, with `pad` spare bytes after every row of both buffers.
std::vector<uint8_t> segment_c(qseg_model* model, const Image& photo, size_t pad) {
  const size_t rgb_stride = static_cast<size_t>(photo.width) * 3 + pad;
  const size_t label_stride = static_cast<size_t>(photo.width) + pad;
  std::vector<uint8_t> rgb(rgb_stride * photo.height, 0xEE);
  for (int y = 0; y < photo.height; ++y)
    std::copy(photo.row(y), photo.row(y) + photo.width * 3, rgb.begin() + y * rgb_stride);
  std::vector<uint8_t> labels(label_stride * photo.height, 0xAB);
  EXPECT_EQ(qseg_segment(model, rgb.data(), photo.width, photo.height, rgb_stride, labels.data(),
                         label_stride),
            QSEG_OK)
      << qseg_last_error();
  std::vector<uint8_t> packed;
  for (int y = 0; y < photo.height; ++y) {
    const uint8_t* row = labels.data() + y * label_stride;
    packed.insert(packed.end(), row, row + photo.width);
    for (size_t i = photo.width; i < label_stride; ++i)
      EXPECT_EQ(row[i], 0xAB) << "the padding of row " << y << " was written";
  }
  return packed;
}

class CApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto photo = read_image(test::shared_path("images/bird.bmp"));
    ASSERT_TRUE(photo.is_ok()) << photo.status().message();
    photo_ = std::move(photo).value();
    auto segmenter = Segmenter::load(test::shared_path(kModel));
    ASSERT_TRUE(segmenter.is_ok()) << segmenter.status().message();
    auto labels = segmenter.value()->segment(photo_);
    ASSERT_TRUE(labels.is_ok());
    expected_ = labels.value().pixels;
  }
  Image photo_;
  std::vector<uint8_t> expected_;
};

TEST_F(CApiTest, FileAndMemoryGiveTheSegmentersLabels) {
  EXPECT_EQ(qseg_api_version(), QSEG_C_API_VERSION);
  ModelHandle from_file(qseg_model_load_file(test::shared_path(kModel).c_str()));
  ASSERT_NE(from_file, nullptr) << qseg_last_error();
  int width = 0, height = 0;
  ASSERT_EQ(qseg_model_input_size(from_file.get(), &width, &height), QSEG_OK);
  EXPECT_EQ(width, 513);
  EXPECT_EQ(height, 513);
  EXPECT_EQ(segment_c(from_file.get(), photo_, 0), expected_);
  EXPECT_EQ(segment_c(from_file.get(), photo_, 13), expected_);  // strides beyond the row

  std::vector<uint8_t> bytes = test::read_file(test::shared_path(kModel));
  ModelHandle from_memory(qseg_model_load_memory(bytes.data(), bytes.size()));
  ASSERT_NE(from_memory, nullptr) << qseg_last_error();
  std::fill(bytes.begin(), bytes.end(), 0);  // the model keeps its own copy
  bytes.clear();
  bytes.shrink_to_fit();
  ASSERT_EQ(qseg_model_set_threads(from_memory.get(), 2), QSEG_OK);
  EXPECT_EQ(segment_c(from_memory.get(), photo_, 1), expected_);
  ASSERT_EQ(qseg_model_set_threads(from_memory.get(), 1), QSEG_OK);
  EXPECT_EQ(segment_c(from_memory.get(), photo_, 0), expected_);
}

// A non-square model (384 x 640, height x width): its size as the C API reports it, and the
// Segmenter's labels for a portrait photo (letterboxed into the input, resized back).
TEST(CApiNonSquare, InputSizeAndLabelsOfA384x640Model) {
  const auto path = test::temp_dir("capi_non_square") / "argmax_384x640.tflite";
  ASSERT_TRUE(write_tflite_file(test::channel_argmax_model(384, 640), path).is_ok());
  ModelHandle model(qseg_model_load_file(path.c_str()));
  ASSERT_NE(model, nullptr) << qseg_last_error();
  int width = 0, height = 0;
  ASSERT_EQ(qseg_model_input_size(model.get(), &width, &height), QSEG_OK);
  EXPECT_EQ(width, 640);
  EXPECT_EQ(height, 384);
  Image portrait(300, 700, 3, 0);
  for (int y = 0; y < portrait.height; ++y)
    for (int x = 0; x < portrait.width; ++x) portrait.row(y)[x * 3 + (y < 350 ? 1 : 2)] = 200;
  auto segmenter = Segmenter::load(path);
  ASSERT_TRUE(segmenter.is_ok()) << segmenter.status().message();
  auto expected = segmenter.value()->segment(portrait);
  ASSERT_TRUE(expected.is_ok());
  const std::vector<uint8_t> labels = segment_c(model.get(), portrait, 3);
  EXPECT_EQ(labels, expected.value().pixels);
  EXPECT_EQ(labels.front(), 1);  // green on top, blue below: no padding in the photo
  EXPECT_EQ(labels.back(), 2);
}

TEST_F(CApiTest, ModelsOnSeveralThreadsAtOnce) {
  std::vector<std::vector<uint8_t>> results(3);
  std::vector<std::thread> threads;
  for (auto& result : results) {
    threads.emplace_back([&] {
      ModelHandle model(qseg_model_load_file(test::shared_path(kModel).c_str()));
      if (model) result = segment_c(model.get(), photo_, 0);
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& result : results) EXPECT_EQ(result, expected_);
}

TEST(CApiClasses, CountNamesAndColoursFromTheModelOrALabelsFile) {
  // The published VOC model: 21 classes, VOC's names and colours.
  ModelHandle voc(qseg_model_load_file(test::shared_path(kModel).c_str()));
  ASSERT_NE(voc, nullptr) << qseg_last_error();
  int count = 0;
  ASSERT_EQ(qseg_model_class_count(voc.get(), &count), QSEG_OK);
  EXPECT_EQ(count, 21);
  EXPECT_STREQ(qseg_model_class_name(voc.get(), 15), "person");
  uint8_t rgb[3] = {};
  ASSERT_EQ(qseg_model_class_color(voc.get(), 15, rgb), QSEG_OK);
  EXPECT_EQ(rgb[0], 192);
  EXPECT_EQ(rgb[1], 128);
  EXPECT_EQ(rgb[2], 128);

  // A model carrying its own names (qseg convert --labels), then renamed by a labels file.
  const auto dir = test::temp_dir("capi_classes");
  const auto model_path = dir / "three.tflite";
  ASSERT_TRUE(write_tflite_file(
                  test::constant_class_graph(3, 2, true, 8, "sky #4682B4\nground\ncar #00008E\n"),
                  model_path)
                  .is_ok());
  ModelHandle three(qseg_model_load_file(model_path.c_str()));
  ASSERT_NE(three, nullptr) << qseg_last_error();
  ASSERT_EQ(qseg_model_class_count(three.get(), &count), QSEG_OK);
  EXPECT_EQ(count, 3);
  EXPECT_STREQ(qseg_model_class_name(three.get(), 0), "sky");
  EXPECT_STREQ(qseg_model_class_name(three.get(), 2), "car");
  ASSERT_EQ(qseg_model_class_color(three.get(), 2, rgb), QSEG_OK);
  EXPECT_EQ(rgb[2], 0x8E);
  std::ofstream(dir / "mine.txt") << "top\nbottom #010203\nvehicle\n";
  ASSERT_EQ(qseg_model_set_labels_file(three.get(), (dir / "mine.txt").c_str()), QSEG_OK)
      << qseg_last_error();
  EXPECT_STREQ(qseg_model_class_name(three.get(), 2), "vehicle");
  ASSERT_EQ(qseg_model_class_color(three.get(), 1, rgb), QSEG_OK);
  EXPECT_EQ(rgb[0], 1);
  EXPECT_EQ(rgb[2], 3);
  // The labels survive a new thread count, and segmenting works as before.
  ASSERT_EQ(qseg_model_set_threads(three.get(), 2), QSEG_OK);
  EXPECT_STREQ(qseg_model_class_name(three.get(), 2), "vehicle");
  const Image photo(10, 6, 3, 50);
  EXPECT_EQ(segment_c(three.get(), photo, 0), std::vector<uint8_t>(60, 2));

  // A file of another count or a bad line: an error naming it, the names kept.
  std::ofstream(dir / "two.txt") << "a\nb\n";
  EXPECT_EQ(qseg_model_set_labels_file(three.get(), (dir / "two.txt").c_str()), QSEG_FAILED);
  EXPECT_EQ(std::string(qseg_last_error()),
            (dir / "two.txt").string() + ": 2 class names, but the model has 3 classes");
  std::ofstream(dir / "bad.txt") << "a\nb #12\nc\n";
  EXPECT_EQ(qseg_model_set_labels_file(three.get(), (dir / "bad.txt").c_str()), QSEG_FAILED);
  EXPECT_NE(std::string(qseg_last_error()).find(":2: bad colour"), std::string::npos);
  EXPECT_STREQ(qseg_model_class_name(three.get(), 2), "vehicle");
  // NULL goes back to the model's own names.
  ASSERT_EQ(qseg_model_set_labels_file(three.get(), nullptr), QSEG_OK);
  EXPECT_STREQ(qseg_model_class_name(three.get(), 2), "car");

  // Bad arguments.
  EXPECT_EQ(qseg_model_class_name(three.get(), 3), nullptr);
  EXPECT_EQ(std::string(qseg_last_error()), "qseg_model_class_name: class 3 is outside 0..2");
  EXPECT_EQ(qseg_model_class_name(three.get(), -1), nullptr);
  EXPECT_EQ(qseg_model_class_name(nullptr, 0), nullptr);
  EXPECT_EQ(qseg_model_class_color(three.get(), 0, nullptr), QSEG_INVALID_ARGUMENT);
  EXPECT_EQ(qseg_model_class_color(three.get(), 9, rgb), QSEG_INVALID_ARGUMENT);
  EXPECT_EQ(qseg_model_class_count(three.get(), nullptr), QSEG_INVALID_ARGUMENT);
  EXPECT_EQ(qseg_model_set_labels_file(nullptr, "x"), QSEG_INVALID_ARGUMENT);
}

TEST(CApiErrors, LoadFailuresSayWhy) {
  const auto dir = test::temp_dir("capi_errors");
  const std::string missing = (dir / "missing.tflite").string();
  EXPECT_EQ(qseg_model_load_file(missing.c_str()), nullptr);
  EXPECT_NE(std::string(qseg_last_error()).find(missing), std::string::npos) << qseg_last_error();
  EXPECT_EQ(qseg_c_header_check(missing.c_str()), QSEG_C_API_VERSION);

  const char junk[] = "this is not a FlatBuffer, it is only text of some length";
  EXPECT_EQ(qseg_model_load_memory(junk, sizeof junk), nullptr);
  EXPECT_NE(std::string(qseg_last_error()).find("model in memory"), std::string::npos)
      << qseg_last_error();
  EXPECT_EQ(qseg_model_load_memory(nullptr, 10), nullptr);
  EXPECT_NE(std::string(qseg_last_error()).find("no bytes"), std::string::npos);
  EXPECT_EQ(qseg_model_load_memory(junk, 0), nullptr);
  EXPECT_EQ(qseg_model_load_file(nullptr), nullptr);
  EXPECT_NE(std::string(qseg_last_error()).find("path is NULL"), std::string::npos);

  // A valid model that is no segmentation model: the float DeepLab is one, so cut a real model.
  std::vector<uint8_t> bytes = test::read_file(test::shared_path(kModel));
  bytes.resize(bytes.size() / 2);
  EXPECT_EQ(qseg_model_load_memory(bytes.data(), bytes.size()), nullptr);
  EXPECT_STRNE(qseg_last_error(), "");

  qseg_model_free(nullptr);  // allowed
}

TEST(CApiErrors, MisuseIsAStatusAndAMessage) {
  ModelHandle model(qseg_model_load_file(test::shared_path(kModel).c_str()));
  ASSERT_NE(model, nullptr) << qseg_last_error();
  std::vector<uint8_t> rgb(30 * 20 * 3, 100), labels(30 * 20);
  auto segment = [&](qseg_model* m, const uint8_t* in, int w, int h, size_t s, uint8_t* out,
                     size_t ls) { return qseg_segment(m, in, w, h, s, out, ls); };
  EXPECT_EQ(segment(nullptr, rgb.data(), 30, 20, 90, labels.data(), 30), QSEG_INVALID_ARGUMENT);
  EXPECT_EQ(segment(model.get(), nullptr, 30, 20, 90, labels.data(), 30), QSEG_INVALID_ARGUMENT);
  EXPECT_EQ(segment(model.get(), rgb.data(), 30, 20, 90, nullptr, 30), QSEG_INVALID_ARGUMENT);
  EXPECT_EQ(segment(model.get(), rgb.data(), 0, 20, 90, labels.data(), 30), QSEG_INVALID_ARGUMENT);
  EXPECT_EQ(segment(model.get(), rgb.data(), 30, -1, 90, labels.data(), 30), QSEG_INVALID_ARGUMENT);
  EXPECT_NE(std::string(qseg_last_error()).find("30x-1"), std::string::npos) << qseg_last_error();
  EXPECT_EQ(segment(model.get(), rgb.data(), 70000, 1, 210000, labels.data(), 70000),
            QSEG_INVALID_ARGUMENT);
  EXPECT_EQ(segment(model.get(), rgb.data(), 30, 20, 89, labels.data(), 30), QSEG_INVALID_ARGUMENT);
  EXPECT_NE(std::string(qseg_last_error()).find("stride"), std::string::npos);
  EXPECT_EQ(segment(model.get(), rgb.data(), 30, 20, 90, labels.data(), 29), QSEG_INVALID_ARGUMENT);
  EXPECT_EQ(qseg_model_set_threads(model.get(), 0), QSEG_INVALID_ARGUMENT);
  EXPECT_NE(std::string(qseg_last_error()).find("got 0"), std::string::npos);
  EXPECT_EQ(qseg_model_set_threads(model.get(), 257), QSEG_INVALID_ARGUMENT);
  EXPECT_EQ(qseg_model_set_threads(nullptr, 2), QSEG_INVALID_ARGUMENT);
  int w = 0;
  EXPECT_EQ(qseg_model_input_size(model.get(), &w, nullptr), QSEG_INVALID_ARGUMENT);
  // After all that the model still works, and a small photo is fine.
  EXPECT_EQ(segment(model.get(), rgb.data(), 30, 20, 90, labels.data(), 30), QSEG_OK)
      << qseg_last_error();
}

TEST(CApiErrors, TheLastErrorIsPerThread) {
  EXPECT_EQ(qseg_model_load_file(nullptr), nullptr);
  std::string seen_elsewhere = "unset";
  std::thread([&] { seen_elsewhere = qseg_last_error(); }).join();
  EXPECT_EQ(seen_elsewhere, "");
  EXPECT_NE(std::string(qseg_last_error()), "");
}

}  // namespace
}  // namespace qseg

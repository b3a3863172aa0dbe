// Whole models with the optimized kernels against the reference kernels: the published dm0.5
// and dm1.0 files on the shared photos give the same ArgMax bytes (the optimized kernels are
// bit-exact, so agreement must be 100%, in both arithmetics and with several threads), and the
// golden per-op check of the real TFLite holds for the optimized kernels too.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "imgproc/image_io.h"
#include "qseg/interpreter.h"
#include "qseg/kernel_isa.h"
#include "qseg/segmenter.h"
#include "qseg/tflite.h"
#include "test_util.h"

namespace qseg {
namespace {

const char* const kModels[] = {"models/deeplabv3_mnv2_dm05_pascal_quant.tflite",
                               "models/deeplabv3_mnv2_pascal_quant.tflite"};

std::vector<KernelIsa> optimized_isas() { return available_optimized_kernel_isas(); }

std::vector<uint8_t> run_model(const std::string& model, const std::vector<uint8_t>& input,
                               KernelIsa isa, Requantization requantization, int threads,
                               bool fuse_blocks = false) {
  auto graph = read_tflite_file(test::shared_path(model));
  EXPECT_TRUE(graph.is_ok()) << graph.status().message();
  InterpreterOptions options;
  options.kernel_isa = isa;
  options.requantization = requantization;
  options.num_threads = threads;
  options.fuse_inverted_residuals = fuse_blocks;
  auto interpreter = Interpreter::create(std::move(graph).value(), options);
  EXPECT_TRUE(interpreter.is_ok()) << interpreter.status().message();
  if (!interpreter.is_ok()) return {};
  EXPECT_EQ(interpreter.value()->kernel_isa(), isa);
  auto destination = interpreter.value()->input_bytes();
  EXPECT_EQ(destination.size(), input.size());
  std::copy(input.begin(), input.end(), destination.begin());
  interpreter.value()->invoke();
  const auto out = interpreter.value()->output_bytes();
  return {out.begin(), out.end()};
}

TEST(OptimizedModel, SameArgMaxAsReferenceOnTheBird) {
  if (optimized_isas().empty()) GTEST_SKIP() << "no optimized kernels on this CPU";
  const auto bird =
      test::read_maybe_gzipped(test::shared_path("golden/bird_segmentation_513.rgb.gz"));
  for (const char* model : kModels) {
    for (Requantization r : {Requantization::kFixedPoint, Requantization::kXnnpack}) {
      const auto expected = run_model(model, bird, KernelIsa::kReference, r, 2);
      for (KernelIsa isa : optimized_isas()) {
        for (int threads : {1, 2}) {
          EXPECT_EQ(run_model(model, bird, isa, r, threads), expected)
              << model << " " << kernel_isa_name(isa) << " threads " << threads;
        }
      }
    }
  }
}

// Inverted residual blocks fused into bands of rows: the same bytes, much less arena.
TEST(OptimizedModel, FusedBlocksGiveTheSameArgMax) {
  if (optimized_isas().empty()) GTEST_SKIP() << "no optimized kernels on this CPU";
  const auto bird =
      test::read_maybe_gzipped(test::shared_path("golden/bird_segmentation_513.rgb.gz"));
  for (const char* model : kModels) {
    for (Requantization r : {Requantization::kFixedPoint, Requantization::kXnnpack}) {
      const auto expected = run_model(model, bird, KernelIsa::kReference, r, 1);
      for (KernelIsa isa : optimized_isas()) {
        for (int threads : {1, 2, 3}) {
          EXPECT_EQ(run_model(model, bird, isa, r, threads, /*fuse_blocks=*/true), expected)
              << model << " " << kernel_isa_name(isa) << " threads " << threads;
        }
      }
    }
  }
  // 16 of dm0.5's 17 blocks fuse (the first has no expansion): the 257x257x48 tensors are gone.
  auto graph = read_tflite_file(test::shared_path(kModels[0]));
  ASSERT_TRUE(graph.is_ok());
  InterpreterOptions options;
  options.fuse_inverted_residuals = true;
  auto fused = Interpreter::create(std::move(graph).value(), options);
  ASSERT_TRUE(fused.is_ok()) << fused.status().message();
  int fused_ops = 0;
  for (size_t i = 0; i < fused.value()->graph().ops.size(); ++i) {
    fused_ops += fused.value()->kernel_variant(static_cast<int>(i)) == "fused";
  }
  EXPECT_EQ(fused_ops, 2 * 16 + 1);  // two per block, one for the final resize + arg max
  EXPECT_LT(fused.value()->arena_bytes(), 2500000);
}

// The whole pipeline (resize, pad, model, crop, resize back) on real photos of other sizes.
TEST(OptimizedModel, SameMasksAsReferenceOnPhotos) {
  if (optimized_isas().empty()) GTEST_SKIP() << "no optimized kernels on this CPU";
  const std::vector<std::string> photos = {"images/bird.bmp",
                                           "coco-voc/JPEGImages/000000000030.jpg",
                                           "coco-voc/JPEGImages/000000000036.jpg"};
  for (const std::string& name : photos) {
    auto photo = read_image(test::shared_path(name));
    ASSERT_TRUE(photo.is_ok()) << photo.status().message();
    for (const char* model : kModels) {
      SegmenterOptions options;
      options.kernel_isa = KernelIsa::kReference;
      auto reference = Segmenter::load(test::shared_path(model), options);
      ASSERT_TRUE(reference.is_ok()) << reference.status().message();
      auto expected = reference.value()->segment(photo.value());
      ASSERT_TRUE(expected.is_ok());
      for (KernelIsa isa : optimized_isas()) {
        options.kernel_isa = isa;
        options.num_threads = 2;
        auto optimized = Segmenter::load(test::shared_path(model), options);
        ASSERT_TRUE(optimized.is_ok()) << optimized.status().message();
        auto mask = optimized.value()->segment(photo.value());
        ASSERT_TRUE(mask.is_ok());
        EXPECT_EQ(mask.value().pixels, expected.value().pixels)
            << name << " " << model << " " << kernel_isa_name(isa);
      }
    }
  }
}

TEST(KernelIsaNames, EveryNameParsesBackToItsVariant) {
  for (KernelIsa isa :
       {KernelIsa::kAuto, KernelIsa::kReference, KernelIsa::kAvx2, KernelIsa::kAvx512Vnni,
        KernelIsa::kAvx512Amx, KernelIsa::kNeon, KernelIsa::kNeonDotprod}) {
    KernelIsa parsed = KernelIsa::kReference == isa ? KernelIsa::kAuto : KernelIsa::kReference;
    ASSERT_TRUE(parse_kernel_isa(kernel_isa_name(isa), &parsed)) << kernel_isa_name(isa);
    EXPECT_EQ(parsed, isa) << kernel_isa_name(isa);
  }
  KernelIsa unchanged = KernelIsa::kNeon;
  EXPECT_FALSE(parse_kernel_isa("sse2", &unchanged));
  EXPECT_EQ(unchanged, KernelIsa::kNeon);
}

// Run-time detection: scripts/test_aarch64.sh runs this under emulated CPUs with and without the
// dot product extension and says which variant auto must pick there.
TEST(KernelIsaDetection, AutoPicksWhatTheCpuSupports) {
  const char* expected = std::getenv("QSEG_EXPECT_AUTO_KERNELS");
  if (expected == nullptr) GTEST_SKIP() << "QSEG_EXPECT_AUTO_KERNELS not set";
  EXPECT_EQ(kernel_isa_name(best_kernel_isa()), std::string_view(expected));
}

TEST(OptimizedModel, UnavailableKernelsAreAnError) {
  for (KernelIsa isa : {KernelIsa::kAvx2, KernelIsa::kAvx512Vnni, KernelIsa::kAvx512Amx,
                        KernelIsa::kNeon, KernelIsa::kNeonDotprod}) {
    if (kernel_isa_available(isa)) continue;
    auto graph = read_tflite_file(test::shared_path(kModels[0]));
    ASSERT_TRUE(graph.is_ok());
    InterpreterOptions options;
    options.kernel_isa = isa;
    auto interpreter = Interpreter::create(std::move(graph).value(), options);
    ASSERT_FALSE(interpreter.is_ok());
    EXPECT_NE(interpreter.status().message().find("not available"), std::string::npos);
  }
}

}  // namespace
}  // namespace qseg

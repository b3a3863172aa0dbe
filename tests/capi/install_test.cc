// `cmake --install` of this build into a fresh prefix, then examples/segment_ppm built against it
// as an app would: with find_package(qseg) (shared and static) and with pkg-config alone. Each
// build of the example must give the Segmenter's labels for the bird photo.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "imgproc/image_io.h"
#include "qseg/segmenter.h"
#include "test_util.h"

namespace qseg {
namespace {

std::string shell_quoted(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

// Runs a shell command; a failure shows its output.
bool run(const std::string& command) {
  const test::CommandResult r = test::run_command(command + " 2>&1");
  EXPECT_EQ(r.exit_code, 0) << command << "\n" << r.output;
  return r.exit_code == 0;
}

std::vector<uint8_t> read_pgm_pixels(const std::filesystem::path& path, int width, int height) {
  const std::vector<uint8_t> bytes = test::read_file(path);
  const std::string header =
      "P5\n" + std::to_string(width) + " " + std::to_string(height) + "\n255\n";
  if (bytes.size() != header.size() + static_cast<size_t>(width) * height ||
      std::string(bytes.begin(), bytes.begin() + header.size()) != header) {
    ADD_FAILURE() << path << " is not the expected PGM";
    return {};
  }
  return std::vector<uint8_t>(bytes.begin() + header.size(), bytes.end());
}

TEST(InstalledPackage, ExampleBuildsAgainstItAndSegmentsLikeTheSegmenter) {
  const auto dir = test::temp_dir("install");
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const auto prefix = dir / "prefix";
  ASSERT_TRUE(run(std::string(QSEG_CMAKE_COMMAND) + " --install " + shell_quoted(QSEG_BINARY_DIR) +
                  " --prefix " + shell_quoted(prefix)));
  for (const char* file :
       {"include/qseg/qseg_c.h", "include/qseg/segmenter.h", "lib/cmake/qseg/qsegConfig.cmake",
        "lib/pkgconfig/qseg.pc", "lib/pkgconfig/qseg-runtime.pc", "lib/libqseg_runtime.a"}) {
    EXPECT_TRUE(std::filesystem::exists(prefix / file)) << file;
  }

  const auto photo_path = test::shared_path("images/bird.bmp");
  auto photo = read_image(photo_path);
  ASSERT_TRUE(photo.is_ok());
  const Image& rgb = photo.value();
  {
    std::ofstream ppm(dir / "bird.ppm", std::ios::binary);
    ppm << "P6\n# the test photo\n" << rgb.width << " " << rgb.height << "\n255\n";
    ppm.write(reinterpret_cast<const char*>(rgb.pixels.data()),
              static_cast<std::streamsize>(rgb.pixels.size()));
  }
  const std::string model = test::shared_path("models/deeplabv3_mnv2_dm05_pascal_quant.tflite");
  auto segmenter = Segmenter::load(model);
  ASSERT_TRUE(segmenter.is_ok());
  const std::vector<uint8_t> expected = segmenter.value()->segment(rgb).value().pixels;

  // find_package(qseg), with this build's compilers and sanitizer flags.
  const auto example = std::filesystem::path(QSEG_SOURCE_DIR) / "examples/segment_ppm";
  const std::string flags = QSEG_EXAMPLE_FLAGS, link_flags = QSEG_EXAMPLE_LINK_FLAGS;
  ASSERT_TRUE(run(std::string(QSEG_CMAKE_COMMAND) + " -S " + shell_quoted(example) + " -B " +
                  shell_quoted(dir / "build") + " -DCMAKE_PREFIX_PATH=" + shell_quoted(prefix) +
                  " -DCMAKE_C_COMPILER=" + QSEG_C_COMPILER +
                  " -DCMAKE_CXX_COMPILER=" + QSEG_CXX_COMPILER + " '-DCMAKE_C_FLAGS=" + flags +
                  "' '-DCMAKE_CXX_FLAGS=" + flags + "' '-DCMAKE_EXE_LINKER_FLAGS=" + link_flags +
                  "'"));
  ASSERT_TRUE(run(std::string(QSEG_CMAKE_COMMAND) + " --build " + shell_quoted(dir / "build")));
  for (const char* program : {"segment_ppm", "segment_ppm_static"}) {
    const auto out = dir / (std::string(program) + ".pgm");
    ASSERT_TRUE(run(shell_quoted(dir / "build" / program) + " " + shell_quoted(model) + " " +
                    shell_quoted(dir / "bird.ppm") + " " + shell_quoted(out) + " 2"));
    EXPECT_EQ(read_pgm_pixels(out, rgb.width, rgb.height), expected) << program;
  }

  // pkg-config alone, against the shared library.
  const std::string pc =
      "PKG_CONFIG_PATH=" + shell_quoted(prefix / "lib/pkgconfig") + " pkg-config";
  ASSERT_TRUE(run(std::string(QSEG_C_COMPILER) + " -std=c99 " + link_flags + " -o " +
                  shell_quoted(dir / "segment_ppm_pc") + " " +
                  shell_quoted(example / "segment_ppm.c") + " $(" + pc +
                  " --cflags --libs qseg) -Wl,-rpath," + shell_quoted(prefix / "lib")));
  const test::CommandResult pc_run =
      test::run_command(shell_quoted(dir / "segment_ppm_pc") + " " + shell_quoted(model) + " " +
                        shell_quoted(dir / "bird.ppm") + " " + shell_quoted(dir / "pc.pgm"));
  ASSERT_EQ(pc_run.exit_code, 0) << pc_run.output;
  EXPECT_EQ(read_pgm_pixels(dir / "pc.pgm", rgb.width, rgb.height), expected);
  // The class names come through the installed library's accessors.
  EXPECT_NE(pc_run.output.find("class 0 (background): "), std::string::npos) << pc_run.output;
  EXPECT_NE(pc_run.output.find("class 3 (bird): "), std::string::npos) << pc_run.output;

  // Bad input to the example: one message, non-zero exit.
  const test::CommandResult r = test::run_command(
      shell_quoted(dir / "segment_ppm_pc") + " " + shell_quoted(dir / "bird.ppm") + " " +
      shell_quoted(dir / "bird.ppm") + " " + shell_quoted(dir / "x.pgm") + " 2>&1");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("segment_ppm: "), std::string::npos) << r.output;
}

}  // namespace
}  // namespace qseg

// The runtime commands never load libtorch (issue 20): every shared library a `qseg` process
// loads, as the dynamic loader reports them (LD_DEBUG=libs), for each command that is not
// training; and the commands that train do load it (through qseg-train), so the check can fail.
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "test_util.h"

namespace qseg::test {
namespace {

// The libraries the loader opened for `qseg ARGS` (exit code in *exit_code), one per line.
std::string loaded_libraries(const std::string& name, const std::string& args, int* exit_code) {
  const std::filesystem::path dir = temp_dir("libraries_" + name);
  const CommandResult r = run_command(
      "cd " + dir.string() + " && LD_DEBUG=libs LD_DEBUG_OUTPUT=" + (dir / "ld").string() + " " +
      std::filesystem::absolute(qseg_binary()).string() + " " + args + " 2>&1");
  *exit_code = r.exit_code;
  std::string libraries;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().filename().string().rfind("ld.", 0) != 0) continue;
    std::ifstream in(entry.path());
    std::string line;
    while (std::getline(in, line)) {
      const auto at = line.find("calling init: ");
      if (at != std::string::npos) libraries += line.substr(at + 14) + "\n";
    }
  }
  return libraries;
}

void expect_no_libtorch(const std::string& name, const std::string& args) {
  int exit_code = -1;
  const std::string libraries = loaded_libraries(name, args, &exit_code);
  EXPECT_EQ(exit_code, 0) << "qseg " << args;
  EXPECT_NE(libraries.find("libjpeg"), std::string::npos)
      << "the loader's report lists no libraries for qseg " << args << ":\n"
      << libraries;
  for (const char* heavy : {"libtorch", "libc10", "libopencv", "libavcodec", "libgloo"}) {
    EXPECT_EQ(libraries.find(heavy), std::string::npos)
        << "qseg " << args << " loaded " << heavy << ":\n"
        << libraries;
  }
}

std::string model() { return shared_path("models/deeplabv3_mnv2_dm05_pascal_quant.tflite"); }
std::string voc() { return shared_path("voc2012").string(); }

TEST(RuntimeCommandLine, LoadsNoLibtorch) {
  const std::filesystem::path dir = temp_dir("libraries_inputs");
  const std::string bird = shared_path("images/bird.bmp").string();
  write_file(dir / "input.u8", std::vector<uint8_t>(513 * 513 * 3, 128));
  const CommandResult imported =
      run_command(qseg_binary().string() + " import --tflite " + model() + " --out " +
                  (dir / "m.ckpt").string() + " --no-check 2>&1");
  ASSERT_EQ(imported.exit_code, 0) << imported.output;
  expect_no_libtorch("segment", "segment " + bird + " --out m");
  expect_no_libtorch("inspect", "inspect " + model());
  expect_no_libtorch("run", "run --model " + model() + " --input " + (dir / "input.u8").string() +
                                " --output o.bin");
  expect_no_libtorch("eval", "eval --model " + model() + " --data " + voc() +
                                 " --split val_available.txt --limit 1");
  expect_no_libtorch("compare", "compare --model " + model() + " --model " + model() + " --data " +
                                    voc() + " --split val_available.txt --limit 1");
  expect_no_libtorch("diff", "diff --model " + model() +
                                 " --a qseg --b qseg --requantization-b fixed-point " + bird);
  expect_no_libtorch("bench", "bench --model " + model() + " --runs 1 --warmup 0");
  expect_no_libtorch("convert", "convert --tflite " + model() + " --output c.tflite");
  expect_no_libtorch("export",
                     "export --checkpoint " + (dir / "m.ckpt").string() + " --out frozen.tflite");
  expect_no_libtorch("export_onnx", "export --model " + model() + " --onnx m.onnx");
  expect_no_libtorch("help", "--help");
}

TEST(RuntimeCommandLine, TrainingCommandsLoadLibtorchInQsegTrain) {
  for (const char* args : {"train --help", "import --help", "launch --help"}) {
    int exit_code = -1;
    const std::string libraries = loaded_libraries("training", args, &exit_code);
    EXPECT_EQ(exit_code, 0) << "qseg " << args;
    EXPECT_NE(libraries.find("libtorch"), std::string::npos) << "qseg " << args << ":\n"
                                                             << libraries;
  }
}

// Without qseg-train beside it, qseg says so in one line and runs every other command.
TEST(RuntimeCommandLine, SaysWhenQsegTrainIsMissing) {
  const std::filesystem::path dir = temp_dir("libraries_alone");
  std::filesystem::copy_file(qseg_binary(), dir / "qseg");
  const std::string qseg = (dir / "qseg").string();
  const CommandResult train = run_command(qseg + " train --steps 1 2>&1");
  EXPECT_EQ(train.exit_code, 1);
  EXPECT_EQ(train.output,
            "qseg: error: train runs in libtorch, in qseg-train, which is not beside " + qseg +
                " (scripts/build.sh builds both)\n");
  const CommandResult inspect = run_command(qseg + " inspect " + model() + " 2>&1");
  EXPECT_EQ(inspect.exit_code, 0) << inspect.output;
}

}  // namespace
}  // namespace qseg::test

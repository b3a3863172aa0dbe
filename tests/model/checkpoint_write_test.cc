// A checkpoint write never leaves a mix of old and new, even when its writer is killed mid-write.
// A half-written PATH.tmp (what a killed writer leaves) is invisible to readers and replaced by
// the next write, and a writer killed at random moments always leaves PATH exactly the old
// checkpoint or the new one.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <thread>

#include "model/checkpoint_file.h"
#include "test_util.h"

namespace qseg::model {
namespace {

namespace fs = std::filesystem;

// A checkpoint of `values` floats, all equal to `fill`, tagged with `fill` in its meta.
CheckpointFile make_checkpoint(int64_t values, float fill) {
  CheckpointFile file;
  file.meta["fill"] = fill;
  CheckpointTensor t;
  t.name = "weights";
  t.shape = {values};
  t.data.assign(static_cast<size_t>(values), fill);
  file.tensors.push_back(std::move(t));
  return file;
}

std::vector<uint8_t> encoded(const CheckpointFile& file) {
  auto bytes = encode_checkpoint(file, "test");
  EXPECT_TRUE(bytes.is_ok()) << bytes.status().message();
  return bytes.is_ok() ? bytes.value() : std::vector<uint8_t>();
}

TEST(CheckpointWrite, AHalfWrittenTemporaryIsIgnoredAndThenReplaced) {
  const fs::path dir = test::temp_dir("checkpoint_half_written");
  const fs::path path = dir / "checkpoint.ckpt";
  const CheckpointFile old_file = make_checkpoint(1000, 1.0f);
  const CheckpointFile new_file = make_checkpoint(1000, 2.0f);
  ASSERT_TRUE(write_checkpoint_file(path, old_file).is_ok());
  // A writer killed halfway through the new checkpoint leaves this behind.
  const std::vector<uint8_t> new_bytes = encoded(new_file);
  test::write_file(
      dir / "checkpoint.ckpt.tmp",
      std::vector<uint8_t>(new_bytes.begin(), new_bytes.begin() + new_bytes.size() / 2));

  auto read = read_checkpoint_file(path);
  ASSERT_TRUE(read.is_ok()) << read.status().message();
  EXPECT_EQ(read.value().meta["fill"], 1.0f);
  EXPECT_EQ(test::read_file(path), encoded(old_file));

  ASSERT_TRUE(write_checkpoint_file(path, new_file).is_ok());
  EXPECT_EQ(test::read_file(path), new_bytes);
  EXPECT_FALSE(fs::exists(dir / "checkpoint.ckpt.tmp"));
}

// Writes `a` and `b` to `path` in turn until killed.
[[noreturn]] void write_forever(const fs::path& path, const CheckpointFile& a,
                                const CheckpointFile& b) {
  for (int64_t i = 0;; ++i) {
    if (!write_checkpoint_file(path, i % 2 == 0 ? a : b).is_ok()) ::_exit(3);
  }
}

TEST(CheckpointWrite, AWriterKilledAtRandomMomentsLeavesTheOldOrTheNewFile) {
  constexpr int kKills = 40;
  const fs::path dir = test::temp_dir("checkpoint_killed_writer");
  const fs::path path = dir / "checkpoint.ckpt", temp = dir / "checkpoint.ckpt.tmp";
  // 4 Mi floats: 16 MiB per write, long enough for kills to strike mid-write.
  const CheckpointFile a = make_checkpoint(int64_t{1} << 22, 1.0f);
  const CheckpointFile b = make_checkpoint(int64_t{1} << 22, 2.0f);
  const std::vector<uint8_t> a_bytes = encoded(a), b_bytes = encoded(b);
  ASSERT_TRUE(write_checkpoint_file(path, a).is_ok());
  std::mt19937 random(20);
  int mid_write = 0;
  for (int kill = 0; kill < kKills; ++kill) {
    fs::remove(temp);  // what the last kill left: the next writer's PATH.tmp is looked for below
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) write_forever(path, a, b);
    // The kill lands at a random moment once the child writes (its first PATH.tmp), however long
    // it takes to get there (encoding 16 MiB is slow under the sanitizers).
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!fs::exists(temp) && std::chrono::steady_clock::now() < give_up)
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    std::this_thread::sleep_for(
        std::chrono::microseconds(std::uniform_int_distribution<int>(0, 40000)(random)));
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
    if (fs::exists(temp)) ++mid_write;
    const std::vector<uint8_t> now = test::read_file(path);
    ASSERT_TRUE(now == a_bytes || now == b_bytes)
        << "kill " << kill << ": " << now.size() << " bytes, neither checkpoint";
    ASSERT_TRUE(read_checkpoint_file(path).is_ok());
  }
  std::printf("%d kills, %d while PATH.tmp was being written\n", kKills, mid_write);
  EXPECT_GE(mid_write, 1);
}

}  // namespace
}  // namespace qseg::model

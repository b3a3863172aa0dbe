// Tests of io::write_file_durably: whole replacement, no temporary left, one-line errors.
// It overwrites a stale temporary, and a failure names the file and the cause and keeps the old
// file as it was.
#include "io/durable_write.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_util.h"

namespace qseg::io {
namespace {

namespace fs = std::filesystem;

Status write(const fs::path& path, const std::vector<uint8_t>& bytes) {
  return write_file_durably(path, bytes.data(), bytes.size());
}

TEST(DurableWrite, CreatesAndReplacesAFile) {
  const fs::path dir = test::temp_dir("durable_write_replace");
  const fs::path path = dir / "f.bin";
  ASSERT_TRUE(write(path, {1, 2, 3}).is_ok());
  EXPECT_EQ(test::read_file(path), (std::vector<uint8_t>{1, 2, 3}));
  ASSERT_TRUE(write(path, {4, 5}).is_ok());
  EXPECT_EQ(test::read_file(path), (std::vector<uint8_t>{4, 5}));
  ASSERT_TRUE(write(path, {}).is_ok());
  EXPECT_TRUE(test::read_file(path).empty());
  EXPECT_FALSE(fs::exists(dir / "f.bin.tmp"));
}

TEST(DurableWrite, OverwritesAStaleTemporaryFile) {
  const fs::path dir = test::temp_dir("durable_write_stale");
  const fs::path path = dir / "f.bin";
  test::write_file(dir / "f.bin.tmp", std::vector<uint8_t>(1000, 9));  // a killed writer's
  ASSERT_TRUE(write(path, {7}).is_ok());
  EXPECT_EQ(test::read_file(path), std::vector<uint8_t>{7});
  EXPECT_FALSE(fs::exists(dir / "f.bin.tmp"));
}

TEST(DurableWrite, AMissingFolderIsOneErrorNamingTheFile) {
  const fs::path dir = test::temp_dir("durable_write_missing");
  const fs::path path = dir / "no_such_folder" / "f.bin";
  const Status status = write(path, {1});
  ASSERT_FALSE(status.is_ok());
  EXPECT_EQ(status.message(), "cannot write " + path.string() + ": No such file or directory");
}

// A file-size limit is a full disk for this process (the write fails with EFBIG once SIGXFSZ is
// ignored): checked in a child, so the limit does not reach the test process.
TEST(DurableWrite, AFullDiskKeepsTheOldFileAndRemovesTheTemporary) {
  const fs::path dir = test::temp_dir("durable_write_full");
  const fs::path path = dir / "f.bin";
  const std::vector<uint8_t> old(100, 1);
  ASSERT_TRUE(write(path, old).is_ok());
  const fs::path message_file = dir / "message.txt";
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::signal(SIGXFSZ, SIG_IGN);
    const rlimit limit{4096, 4096};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    const Status status = write(path, std::vector<uint8_t>(65536, 2));
    const std::string& text = status.message();
    test::write_file(message_file, {text.begin(), text.end()});
    ::_exit(status.is_ok() ? 1 : 0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  const std::vector<uint8_t> bytes = test::read_file(message_file);
  EXPECT_EQ(std::string(bytes.begin(), bytes.end()),
            "cannot write " + path.string() + ": File too large");
  EXPECT_EQ(test::read_file(path), old);
  EXPECT_FALSE(fs::exists(dir / "f.bin.tmp"));
}

}  // namespace
}  // namespace qseg::io

// Training never loses work: `qseg train` killed with SIGKILL at random moments (some of them while
// a checkpoint is half written) and resumed each time ends with exactly the weights and the log of
// a run never interrupted; a write that meets a full disk (a file-size limit) stops training with
// one clear error, leaves the previous checkpoint and the log whole, and the run then resumes.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "test_util.h"
#include "train/model_names.h"
#include "train/support/child_runs.h"
#include "train/support/synthetic_data.h"

namespace qseg::train {
namespace {

using std::chrono::milliseconds;
namespace fs = std::filesystem;

std::string qseg() { return test::qseg_binary().string(); }

fs::path make_data(const fs::path& dir) {
  test::write_synthetic_segmentation_set(dir / "data", 8, 2, 48, 5);
  return dir / "data";
}

// The run every test here trains: a tiny DeepLab from random weights, a checkpoint after every
// step, quantization-aware from step 6 (so that resumes carry activation ranges across the
// switch). One libtorch thread: a resumed run is then bit-exact.
std::string train_flags(const fs::path& data, const fs::path& out, int steps) {
  return " train --from-scratch --depth-multiplier 0.25 --num-classes 4 --output-stride 8 --data " +
         data.string() + " --split train.txt --crop-size 33 --batch-size 2 --steps " +
         std::to_string(steps) +
         " --base-lr 0.01 --quantize-delay-step 6 --seed 7 --checkpoint-every 1 --threads 1"
         " --loader-threads 1 --quiet --out " +
         out.string();
}

// The step of OUT/checkpoint.ckpt, or -1 when there is none yet.
int64_t checkpoint_step(const fs::path& out) {
  if (!fs::exists(out / "checkpoint.ckpt")) return -1;
  auto file = read_checkpoint_file(out / "checkpoint.ckpt");
  EXPECT_TRUE(file.is_ok()) << file.status().message();
  return file.is_ok() ? file.value().meta["train"]["step"].get<int64_t>() : -1;
}

// Every tensor (weights, batch-norm statistics, ranges, momentum) bit for bit.
void expect_same_tensors(const fs::path& a, const fs::path& b) {
  const auto ta = test::checkpoint_tensors(a), tb = test::checkpoint_tensors(b);
  ASSERT_FALSE(ta.empty());
  ASSERT_EQ(ta.size(), tb.size());
  for (const auto& [name, values] : ta) {
    const auto other = tb.find(name);
    ASSERT_TRUE(other != tb.end()) << name;
    EXPECT_TRUE(values == other->second) << name << " differs";
  }
}

// The log's rows as "step,loss" (the columns that do not depend on timing).
std::vector<std::string> step_and_loss(const fs::path& out) {
  std::istringstream in(test::read_text(out / "train_log.csv"));
  std::vector<std::string> rows;
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) rows.push_back(line.substr(0, line.find(',', line.find(',') + 1)));
  return rows;
}

// The log holds one row per step 1..steps, with the losses of the straight run.
void expect_same_log(const fs::path& straight, const fs::path& resumed, int steps) {
  const std::vector<std::string> want = step_and_loss(straight), got = step_and_loss(resumed);
  ASSERT_EQ(want.size(), static_cast<size_t>(steps));
  ASSERT_EQ(got.size(), want.size());
  for (int i = 0; i < steps; ++i) {
    EXPECT_EQ(got[i].substr(0, got[i].find(',')), std::to_string(i + 1));
    EXPECT_EQ(got[i], want[i]);
  }
}

// Complete rows in OUT/train_log.csv (what the training process has logged so far).
size_t logged_rows(const fs::path& out) {
  const std::string text = test::read_text(out / "train_log.csv");
  const auto lines = static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
  return lines > 0 ? lines - 1 : 0;
}

// Polls `ready` every millisecond until it holds, the child exits (its status is kept in
// *status, which stays set once it is) or 120 s pass (ample even under sanitizers).
template <typename Ready>
void wait_until(pid_t pid, int* status, Ready ready) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (*status < 0 && !ready() && std::chrono::steady_clock::now() < end) {
    if ((*status = test::poll_child(pid)) >= 0) return;
    std::this_thread::sleep_for(milliseconds(1));
  }
}

int wait_for_exit(pid_t pid) {
  int status = -1;
  wait_until(pid, &status, [] { return false; });
  if (status < 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  return status;
}

// When a kill strikes: a random time after the start (start-up, the first steps or anything in
// between), a random moment within a step some steps after the resumed one, or while a checkpoint
// is half written: as soon as this run's checkpoint.ckpt.tmp appears. A write can still finish
// before the kill lands; the test then leaves what a writer killed halfway leaves (the first half
// of the checkpoint as checkpoint.ckpt.tmp), so every such kill is resumed past a half-written
// checkpoint. (tests/model/checkpoint_write_test.cc kills writers of large checkpoints mid-write.)
enum class KillMoment { kAnyTime, kWithinAStep, kDuringCheckpointWrite };

// What a writer killed halfway through replacing OUT/checkpoint.ckpt leaves behind.
void leave_half_written_checkpoint(const fs::path& out) {
  const std::vector<uint8_t> bytes = test::read_file(out / "checkpoint.ckpt");
  test::write_file(out / "checkpoint.ckpt.tmp",
                   std::vector<uint8_t>(bytes.begin(), bytes.begin() + bytes.size() / 2));
}

TEST(KillResumeTest, KilledAtRandomMomentsAndResumedEndsLikeAStraightRun) {
  constexpr int kSteps = 24;
  const fs::path dir = test::temp_dir("kill_resume_random");
  const fs::path data = make_data(dir);
  const fs::path straight = dir / "straight", out = dir / "killed";
  test::CommandResult r = test::run_command(qseg() + train_flags(data, straight, kSteps));
  ASSERT_EQ(r.exit_code, 0) << r.output;

  const KillMoment plan[] = {KillMoment::kDuringCheckpointWrite,
                             KillMoment::kWithinAStep,
                             KillMoment::kAnyTime,
                             KillMoment::kDuringCheckpointWrite,
                             KillMoment::kWithinAStep,
                             KillMoment::kDuringCheckpointWrite};
  std::mt19937 random(8);
  auto uniform_ms = [&](int low, int high) {
    return milliseconds(std::uniform_int_distribution<int>(low, high)(random));
  };
  size_t kills = 0;
  int kills_during_write = 0, half_writes_left = 0, runs = 0;
  for (int64_t done = checkpoint_step(out); done < kSteps; done = checkpoint_step(out)) {
    ASSERT_LT(++runs, 20) << "training makes no progress";
    const bool kill = kills < std::size(plan);
    const KillMoment moment = kill ? plan[kills] : KillMoment::kAnyTime;
    const fs::path temp = out / "checkpoint.ckpt.tmp";
    const auto stale_temp = fs::exists(temp) ? fs::last_write_time(temp) : fs::file_time_type();
    // Only a write cut short leaves checkpoint.ckpt.tmp (a finished one renames it); one older
    // than this run was left by an earlier kill.
    auto fresh_temp = [&] { return fs::exists(temp) && fs::last_write_time(temp) != stale_temp; };
    // Before the first checkpoint there is nothing to resume: the run starts over.
    const fs::path output = dir / ("run" + std::to_string(runs) + ".txt");
    const pid_t pid =
        test::spawn_shell("exec " + qseg() + train_flags(data, out, kSteps) +
                          (done >= 0 ? " --resume" : "") + " >" + output.string() + " 2>&1");
    if (!kill) {
      ASSERT_EQ(wait_for_exit(pid), 0) << test::read_text(output);
      continue;
    }
    int status = -1;
    // The log may hold one row past the checkpoint from the killed run; two past it were written
    // by this one, after it had replaced the checkpoint (and any stale .tmp).
    const size_t resumed_rows = static_cast<size_t>(std::max<int64_t>(done, 0));
    if (moment == KillMoment::kAnyTime) {
      // Capped at 4 steps of progress, so that every planned kill finds a run to kill.
      const auto deadline = std::chrono::steady_clock::now() + uniform_ms(0, 1500);
      wait_until(pid, &status, [&] {
        return std::chrono::steady_clock::now() >= deadline || logged_rows(out) >= resumed_rows + 4;
      });
    } else {
      const size_t rows = resumed_rows + 2 + std::uniform_int_distribution<size_t>(0, 2)(random);
      wait_until(pid, &status, [&] { return logged_rows(out) >= rows; });
      if (moment == KillMoment::kWithinAStep) {
        std::this_thread::sleep_for(uniform_ms(0, 50));
      } else {
        wait_until(pid, &status, fresh_temp);
      }
    }
    if (status < 0) {
      ::kill(pid, SIGKILL);
      status = wait_for_exit(pid);
    }
    // A run may finish before its kill; otherwise SIGKILL ended it.
    ASSERT_TRUE(status == 0 || status == 128 + SIGKILL) << status << "\n"
                                                        << test::read_text(output);
    if (status == 0) continue;
    ++kills;
    if (fresh_temp()) {
      ++kills_during_write;
    } else if (moment == KillMoment::kDuringCheckpointWrite) {
      leave_half_written_checkpoint(out);
      ++kills_during_write;
      ++half_writes_left;
    }
  }
  std::printf(
      "%zu kills (%d while a checkpoint was written, %d of them left by the test), %d runs\n",
      kills, kills_during_write, half_writes_left, runs);
  EXPECT_GE(kills, 4u);
  EXPECT_GE(kills_during_write, 1);
  expect_same_tensors(straight / "checkpoint.ckpt", out / "checkpoint.ckpt");
  expect_same_log(straight, out, kSteps);
  // The last writes replaced whatever temporary files the kills left.
  for (const auto& entry : fs::directory_iterator(out))
    EXPECT_NE(entry.path().extension(), ".tmp") << entry.path();
  EXPECT_TRUE(fs::exists(out / "loss.svg"));
}

// The output holds one `qseg: error:` line, the last, containing every fragment.
void expect_one_error(const test::CommandResult& r, const std::vector<std::string>& fragments) {
  EXPECT_NE(r.exit_code, 0) << r.output;
  const size_t at = r.output.find("qseg: error: ");
  ASSERT_NE(at, std::string::npos) << r.output;
  EXPECT_EQ(std::count(r.output.begin() + static_cast<std::ptrdiff_t>(at), r.output.end(), '\n'), 1)
      << r.output;
  for (const std::string& fragment : fragments)
    EXPECT_NE(r.output.find(fragment, at), std::string::npos) << fragment << "\n" << r.output;
}

TEST(KillResumeTest, AFullDiskIsOneClearErrorAndLosesNothing) {
  constexpr int kSteps = 8;
  const fs::path dir = test::temp_dir("kill_resume_full_disk");
  const fs::path data = make_data(dir);
  const fs::path out = dir / "run", straight = dir / "straight";
  const std::string resume = qseg() + train_flags(data, out, kSteps) + " --resume";
  test::CommandResult r =
      test::run_command(qseg() + train_flags(data, out, kSteps) + " --stop-at-step 4");
  ASSERT_EQ(r.exit_code, 0) << r.output;

  // A file-size limit (a full disk for this process; qseg turns SIGXFSZ into the error EFBIG)
  // between the plot's size and the checkpoint's: step 5 is logged and plotted, its checkpoint
  // does not fit. `ulimit -f` counts blocks of 512 or 1024 bytes depending on the shell; the
  // limit is a quarter or a half of the checkpoint either way.
  const uintmax_t checkpoint_bytes = fs::file_size(out / "checkpoint.ckpt");
  const uintmax_t blocks = checkpoint_bytes / 2048;
  ASSERT_GT(blocks * 512, 4 * fs::file_size(out / "loss.svg"));
  r = test::run_command("ulimit -f " + std::to_string(blocks) + "; exec " + resume);
  expect_one_error(r, {"cannot write " + (out / "checkpoint.ckpt").string(), "File too large"});
  EXPECT_EQ(checkpoint_step(out), 4);
  EXPECT_EQ(fs::file_size(out / "checkpoint.ckpt"), checkpoint_bytes);
  EXPECT_FALSE(fs::exists(out / "checkpoint.ckpt.tmp"));

  // No room at all: reopening the log for the resume fails, and leaves it as it was.
  const std::string log = test::read_text(out / "train_log.csv");
  r = test::run_command("ulimit -f 0; exec " + resume);
  expect_one_error(r, {"cannot write " + (out / "train_log.csv").string(), "File too large"});
  EXPECT_EQ(test::read_text(out / "train_log.csv"), log);
  EXPECT_EQ(checkpoint_step(out), 4);

  // With room again, the run resumes from step 4 and ends like one never stopped.
  r = test::run_command(resume);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("steps 5..8"), std::string::npos) << r.output;
  r = test::run_command(qseg() + train_flags(data, straight, kSteps));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  expect_same_tensors(straight / "checkpoint.ckpt", out / "checkpoint.ckpt");
  expect_same_log(straight, out, kSteps);
}

}  // namespace
}  // namespace qseg::train

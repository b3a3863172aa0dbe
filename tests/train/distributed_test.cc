// Data-parallel training with real processes on 127.0.0.1 (`qseg launch`, `qseg train --rank`):
// two replicas with batch B end where one process with batch 2B ends (float and
// quantization-aware), a run resumes with another world size, and a replica that is killed or
// hangs makes the other stop within the timeout with a clear error.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include "test_util.h"
#include "train/model_names.h"
#include "train/support/child_runs.h"
#include "train/support/synthetic_data.h"
#include "train/trainer.h"

namespace qseg::train {
namespace {

std::string qseg() { return test::qseg_binary().string(); }

// A tiny DeepLab trained for a while on real photos (COCO with VOC labels): fine-tuning it is
// well conditioned, as the recipe's fine-tuning is (from random weights, a few steps amplify
// roundings so much that even the thread count changes the result).
struct Pretrained {
  std::filesystem::path data;
  std::filesystem::path checkpoint;
};

const Pretrained& pretrained() {
  static const Pretrained p = [] {
    Pretrained out;
    const auto dir =
        test::temp_dir(std::string("distributed_") +
                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    out.data = test::shared_path("coco-voc");
    TrainOptions o;
    o.from_scratch = true;
    o.scratch_config.depth_multiplier = 0.25f;
    o.scratch_config.num_classes = 21;
    o.scratch_config.output_stride = 8;
    o.scratch_config.input_height = o.scratch_config.input_width = 65;
    o.data = {{out.data, "train.txt"}};
    o.augment.crop_size = 65;
    o.batch_size = 8;
    o.steps = 150;
    o.base_learning_rate = 0.05;
    o.seed = 3;
    o.loader_threads = 1;
    o.checkpoint_every = 1000;
    o.progress = false;
    o.out_dir = dir / "pretrained";
    auto result = train(o);
    EXPECT_TRUE(result.is_ok()) << result.status().message();
    out.checkpoint = o.out_dir / "checkpoint.ckpt";
    return out;
  }();
  return p;
}

std::string fine_tune_flags(const std::filesystem::path& out, int steps, int timeout = 60) {
  return " --init " + pretrained().checkpoint.string() + " --data " + pretrained().data.string() +
         " --split train.txt --crop-size 65 --steps " + std::to_string(steps) +
         " --base-lr 1e-4 --seed 4 --quiet --loader-threads 1 " + "--timeout " +
         std::to_string(timeout) + " --out " + out.string();
}

// A run from random weights on a small generated set (for the fault tests: fast to start).
std::string scratch_flags(const std::filesystem::path& out, int steps, int timeout) {
  const std::filesystem::path data = out.parent_path() / "data";
  if (!std::filesystem::exists(data / "train.txt"))
    test::write_synthetic_segmentation_set(data, 8, 2, 48, 5);
  return " --from-scratch --depth-multiplier 0.25 --num-classes 4 --output-stride 8 --data " +
         data.string() + " --split train.txt --crop-size 33 --steps " + std::to_string(steps) +
         " --base-lr 1e-3 --seed 4 --quiet --loader-threads 1 --timeout " +
         std::to_string(timeout) + " --out " + out.string();
}

// The largest difference between two checkpoints' tensors (weights, batch-norm statistics,
// ranges, momentum), relative to the largest change training made to any of them.
double difference_relative_to_training(const std::filesystem::path& a,
                                       const std::filesystem::path& b) {
  const auto ta = test::checkpoint_tensors(a), tb = test::checkpoint_tensors(b),
             start = test::checkpoint_tensors(pretrained().checkpoint);
  double difference = 0, change = 0;
  for (const auto& [name, values] : ta) {
    const auto other = tb.find(name);
    EXPECT_TRUE(other != tb.end() && other->second.size() == values.size()) << name;
    if (other == tb.end() || other->second.size() != values.size()) return 1e9;
    const auto before = start.find(name);
    for (size_t i = 0; i < values.size(); ++i) {
      difference =
          std::max(difference, static_cast<double>(std::abs(values[i] - other->second[i])));
      if (before != start.end() && before->second.size() == values.size())
        change = std::max(change, static_cast<double>(std::abs(values[i] - before->second[i])));
    }
  }
  EXPECT_GT(change, 0.0);
  return difference / std::max(change, 1e-12);
}

std::vector<double> losses(const std::filesystem::path& run) {
  std::ifstream in(run / "train_log.csv");
  std::vector<double> out;
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) out.push_back(std::stod(line.substr(line.find(',') + 1)));
  return out;
}

TEST(DistributedTrainingTest, TwoReplicasWithBatchBEqualOneProcessWithBatch2B) {
  // Float, and quantization-aware from the first step (the recommended fine-tune). Float batch
  // norm in one process is libtorch's fused kernel, in replicas sums in double: roundings apart
  // (quantization-aware training takes the sums in double either way, so it agrees closer).
  for (const std::string mode : {"", " --quantize-delay-step 0"}) {
    SCOPED_TRACE(mode.empty() ? "float" : "quantization-aware");
    const auto dir = test::temp_dir(mode.empty() ? "distributed_float" : "distributed_qat");
    test::CommandResult one = test::run_command(qseg() + " train --batch-size 4" +
                                                fine_tune_flags(dir / "one", 6) + mode);
    ASSERT_EQ(one.exit_code, 0) << one.output;
    test::CommandResult two = test::run_command(qseg() + " launch --nproc 2 train --batch-size 2" +
                                                fine_tune_flags(dir / "two", 6) + mode);
    ASSERT_EQ(two.exit_code, 0) << two.output;
    EXPECT_NE(two.output.find("batch 4 (2 replicas x 2)"), std::string::npos) << two.output;
    // Rank 0 alone writes.
    EXPECT_EQ(two.output.find("rank 1"), std::string::npos) << two.output;
    const double same = difference_relative_to_training(dir / "one" / "checkpoint.ckpt",
                                                        dir / "two" / "checkpoint.ckpt");
    EXPECT_LT(same, mode.empty() ? 1e-2 : 1e-4);
    const std::vector<double> l1 = losses(dir / "one"), l2 = losses(dir / "two");
    ASSERT_EQ(l1.size(), 6u);
    ASSERT_EQ(l2.size(), 6u);
    for (size_t i = 0; i < l1.size(); ++i) EXPECT_NEAR(l1[i], l2[i], 1e-3 * l1[i]) << i;
    // One process with batch B alone ends elsewhere: the comparison can tell.
    test::CommandResult half = test::run_command(qseg() + " train --batch-size 2" +
                                                 fine_tune_flags(dir / "half", 6) + mode);
    ASSERT_EQ(half.exit_code, 0) << half.output;
    const double other = difference_relative_to_training(dir / "one" / "checkpoint.ckpt",
                                                         dir / "half" / "checkpoint.ckpt");
    std::printf("%s: W=2 x 2 vs W=1 x 4: %.3g of the change training made; W=1 x 2: %.3g\n",
                mode.empty() ? "float" : "quantization-aware", same, other);
    EXPECT_GT(other, 1e-2);
  }
}

TEST(DistributedTrainingTest, TransferToNewClassesWithReplicasEqualsOneProcess) {
  // New logits (25 classes: the data's 21 and 4 unused) trained quantization-aware: rank 0 makes
  // the fresh layer and sends it, so both replicas start from the same one.
  const auto dir = test::temp_dir("distributed_transfer");
  const std::string mode = " --quantize-delay-step 0 --num-classes 25";
  test::CommandResult one =
      test::run_command(qseg() + " train --batch-size 4" + fine_tune_flags(dir / "one", 4) + mode);
  ASSERT_EQ(one.exit_code, 0) << one.output;
  test::CommandResult two = test::run_command(qseg() + " launch --nproc 2 train --batch-size 2" +
                                              fine_tune_flags(dir / "two", 4) + mode);
  ASSERT_EQ(two.exit_code, 0) << two.output;
  const std::string said =
      "transfer: re-initialized logits/semantic (25 classes, the checkpoint's had 21)";
  EXPECT_NE(one.output.find(said), std::string::npos) << one.output;
  const size_t first = two.output.find(said);
  ASSERT_NE(first, std::string::npos) << two.output;
  EXPECT_EQ(two.output.find(said, first + 1), std::string::npos) << "rank 0 alone says it";
  // The logits (absent from the parent) are compared too; the change is the other layers'.
  EXPECT_LT(difference_relative_to_training(dir / "one" / "checkpoint.ckpt",
                                            dir / "two" / "checkpoint.ckpt"),
            1e-4);
  const auto tensors = test::checkpoint_tensors(dir / "two" / "checkpoint.ckpt");
  EXPECT_EQ(tensors.at("logits/semantic/biases").size(), 25u);
}

TEST(DistributedTrainingTest, ResumesWithAnotherWorldSize) {
  const auto dir = test::temp_dir("distributed_resume");
  const std::string qat = " --quantize-delay-step 0";
  test::CommandResult straight = test::run_command(qseg() + " train --batch-size 4" +
                                                   fine_tune_flags(dir / "straight", 6) + qat);
  ASSERT_EQ(straight.exit_code, 0) << straight.output;
  // Two replicas of 2 stop at step 3; one process of 4 goes on (the same 4 examples per step).
  test::CommandResult first =
      test::run_command(qseg() + " launch --nproc 2 train --batch-size 2" +
                        fine_tune_flags(dir / "split", 6) + qat + " --stop-at-step 3");
  ASSERT_EQ(first.exit_code, 0) << first.output;
  test::CommandResult second = test::run_command(qseg() + " train --resume --batch-size 4" +
                                                 fine_tune_flags(dir / "split", 6) + qat);
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_NE(second.output.find("steps 4..6"), std::string::npos) << second.output;
  EXPECT_EQ(second.output.find("warning"), std::string::npos) << second.output;
  EXPECT_LT(difference_relative_to_training(dir / "straight" / "checkpoint.ckpt",
                                            dir / "split" / "checkpoint.ckpt"),
            1e-3);
  // Another global batch is allowed, with a warning.
  test::CommandResult more =
      test::run_command(qseg() + " launch --nproc 2 train --resume --batch-size 1" +
                        fine_tune_flags(dir / "split", 8) + qat);
  ASSERT_EQ(more.exit_code, 0) << more.output;
  EXPECT_NE(more.output.find("resuming with 2 examples per step (2 x 1), the checkpoint's run "
                             "had 4"),
            std::string::npos)
      << more.output;
}

// A `qseg train` process with its output in a file.
struct Process {
  pid_t pid = -1;
  std::filesystem::path output;
};

Process start(const std::string& args, const std::filesystem::path& output) {
  Process p;
  p.output = output;
  p.pid = test::spawn_shell("exec " + qseg() + " " + args + " >" + output.string() + " 2>&1");
  return p;
}

// Waits up to `seconds` for the process; its exit status, or -1 if it is still running.
int wait_for(const Process& p, double seconds, double* waited = nullptr) {
  const auto begin = std::chrono::steady_clock::now();
  for (;;) {
    if (const int status = test::poll_child(p.pid); status >= 0) {
      if (waited)
        *waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
      return status;
    }
    if (std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count() > seconds)
      return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// Starts two replicas of a long run, waits until rank 0 has logged 2 steps and written a
// checkpoint, then does `fault` to rank 1.
struct FaultRun {
  Process rank0, rank1;
  std::filesystem::path out;
};

FaultRun start_long_run(const std::string& name, int timeout_seconds, int port) {
  const auto dir = test::temp_dir(name);
  FaultRun run;
  run.out = dir / "run";
  const std::string flags =
      " train --batch-size 2" + scratch_flags(run.out, 100000, timeout_seconds) +
      " --checkpoint-every 1 --world-size 2 --master 127.0.0.1:" + std::to_string(port);
  run.rank0 = start(flags + " --rank 0", dir / "rank0.txt");
  run.rank1 = start(flags + " --rank 1", dir / "rank1.txt");
  for (int i = 0; i < 3000; ++i) {
    if (losses(run.out).size() >= 2 && std::filesystem::exists(run.out / "checkpoint.ckpt")) break;
    if (wait_for(run.rank0, 0) >= 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return run;
}

TEST(DistributedTrainingTest, AKilledReplicaStopsTheOtherWithAClearError) {
  FaultRun run = start_long_run("distributed_kill", 10, test::free_tcp_port());
  ASSERT_GE(losses(run.out).size(), 2u) << test::read_text(run.out.parent_path() / "rank0.txt");
  ::kill(run.rank1.pid, SIGKILL);
  wait_for(run.rank1, 10);
  double waited = 0;
  const int status = wait_for(run.rank0, 10 + 20, &waited);
  if (status < 0) ::kill(run.rank0.pid, SIGKILL);
  const std::string output = test::read_text(run.rank0.output);
  ASSERT_GT(status, 0) << "rank 0 did not stop: " << output;
  EXPECT_LT(waited, 10 + 20);
  // Exit status 1 with the message, not a signal (a send on the dead replica's socket once
  // killed rank 0 with SIGPIPE: status 141).
  EXPECT_EQ(status, 1) << output;
  EXPECT_NE(output.find("qseg: error: rank 0 of 2: step "), std::string::npos) << output;
  EXPECT_NE(output.find("another replica stopped"), std::string::npos) << output;
  // The last checkpoint is whole: the run resumes from it (with one process, batch 4).
  const size_t done = losses(run.out).size();
  test::CommandResult resumed =
      test::run_command(qseg() + " train --resume --batch-size 4" +
                        scratch_flags(run.out, static_cast<int>(done) + 2, 60));
  EXPECT_EQ(resumed.exit_code, 0) << resumed.output;
}

TEST(DistributedTrainingTest, AHungReplicaIsATimeout) {
  FaultRun run = start_long_run("distributed_hang", 3, test::free_tcp_port());
  ASSERT_GE(losses(run.out).size(), 2u) << test::read_text(run.out.parent_path() / "rank0.txt");
  ::kill(run.rank1.pid, SIGSTOP);
  double waited = 0;
  const int status = wait_for(run.rank0, 3 + 20, &waited);
  if (status < 0) ::kill(run.rank0.pid, SIGKILL);
  ::kill(run.rank1.pid, SIGKILL);
  wait_for(run.rank1, 10);
  const std::string output = test::read_text(run.rank0.output);
  ASSERT_GT(status, 0) << "rank 0 did not stop: " << output;
  EXPECT_NE(output.find("no answer from another replica within the 3 s timeout"), std::string::npos)
      << output;
}

// The children of a process (the replicas of `qseg launch`), by /proc.
std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> out;
  std::ifstream in("/proc/" + std::to_string(parent) + "/task/" + std::to_string(parent) +
                   "/children");
  for (pid_t pid; in >> pid;) out.push_back(pid);
  return out;
}

std::string rank_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline");
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t at = all.find(std::string("--rank") + '\0');
  return at == std::string::npos ? "" : std::string(all.c_str() + at + 7);
}

// Starts `qseg launch --nproc 2` on a long run and waits for 2 logged steps and a checkpoint.
Process start_launch(const std::filesystem::path& dir, int timeout_seconds) {
  Process launch = start("launch --nproc 2 --grace 5 train --batch-size 2 --checkpoint-every 1" +
                             scratch_flags(dir / "run", 100000, timeout_seconds),
                         dir / "launch.txt");
  for (int i = 0; i < 3000; ++i) {
    if (losses(dir / "run").size() >= 2 && std::filesystem::exists(dir / "run/checkpoint.ckpt"))
      break;
    if (wait_for(launch, 0) >= 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return launch;
}

TEST(DistributedTrainingTest, LaunchStopsAllReplicasTogetherOnSigterm) {
  const auto dir = test::temp_dir("distributed_launch_sigterm");
  Process launch = start_launch(dir, 30);
  ASSERT_GE(losses(dir / "run").size(), 2u) << test::read_text(launch.output);
  ::kill(launch.pid, SIGTERM);
  const int status = wait_for(launch, 60);
  if (status < 0) ::kill(launch.pid, SIGKILL);
  const std::string output = test::read_text(launch.output);
  ASSERT_EQ(status, 0) << output;
  EXPECT_NE(output.find("interrupted after steps 1.."), std::string::npos) << output;
  // The checkpoint is the last step logged: both replicas stopped after the same step.
  auto file = read_checkpoint_file(dir / "run" / "checkpoint.ckpt");
  ASSERT_TRUE(file.is_ok()) << file.status().message();
  EXPECT_EQ(file.value().meta["train"]["step"].get<size_t>(), losses(dir / "run").size());
}

TEST(DistributedTrainingTest, LaunchReportsTheReplicaThatFailedFirst) {
  const auto dir = test::temp_dir("distributed_launch_kill");
  Process launch = start_launch(dir, 10);
  ASSERT_GE(losses(dir / "run").size(), 2u) << test::read_text(launch.output);
  pid_t rank1 = -1;
  for (pid_t child : children_of(launch.pid))
    if (rank_of(child) == "1") rank1 = child;
  ASSERT_GT(rank1, 0) << "no rank 1 among the children of qseg launch";
  ::kill(rank1, SIGKILL);
  const int status = wait_for(launch, 10 + 5 + 30);
  if (status < 0) ::kill(launch.pid, SIGKILL);
  const std::string output = test::read_text(launch.output);
  ASSERT_EQ(status, 1) << output;
  EXPECT_NE(output.find("qseg: error: rank 0 of 2: step"), std::string::npos) << output;
  EXPECT_NE(output.find("qseg: error: launch: rank 1 was killed by signal 9"), std::string::npos)
      << output;
  EXPECT_NE(output.find("then rank 0 exited with status 1"), std::string::npos) << output;
}

TEST(DistributedTrainingTest, BadSetupsAreOneErrorLine) {
  test::expect_one_error_line("launch --nproc 2 segment x.jpg", "qseg launch runs `train`");
  test::expect_one_error_line("launch --nproc 2 train --rank 1", "sets --rank itself");
  test::expect_one_error_line(
      "train --from-scratch --data d --split s --out o --world-size 2 --rank 2",
      "--rank must be in [0, 1]");
  test::expect_one_error_line(
      "train --from-scratch --data d --split s --out o --world-size 2 --master x", "HOST:PORT");
  // Rank 0 cannot read --init: it says why, the others that rank 0 could not start.
  const auto missing = test::temp_dir("distributed_missing_init");
  test::CommandResult r = test::run_command(
      qseg() + " launch --nproc 2 train --init " + (missing / "none.ckpt").string() +
      scratch_flags(missing / "run", 4, 60).substr(std::string(" --from-scratch").size()));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("qseg: error: rank 0 of 2: cannot open checkpoint"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("qseg: error: rank 1 of 2: rank 0 could not start"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("qseg: error: launch: rank "), std::string::npos) << r.output;
  // Replicas started with different flags: every one of them stops and says so.
  const auto dir = test::temp_dir("distributed_mismatch");
  const std::string master =
      " --world-size 2 --master 127.0.0.1:" + std::to_string(test::free_tcp_port());
  Process rank0 =
      start("train --batch-size 2" + scratch_flags(dir / "run", 4, 60) + master + " --rank 0",
            dir / "rank0.txt");
  Process rank1 =
      start("train --batch-size 3" + scratch_flags(dir / "run", 4, 60) + master + " --rank 1",
            dir / "rank1.txt");
  const int status0 = wait_for(rank0, 60), status1 = wait_for(rank1, 60);
  EXPECT_EQ(status0, 1) << test::read_text(dir / "rank0.txt");
  EXPECT_EQ(status1, 1) << test::read_text(dir / "rank1.txt");
  EXPECT_NE(test::read_text(dir / "rank1.txt").find("batch_size is 3 here but 2 on rank 0"),
            std::string::npos)
      << test::read_text(dir / "rank1.txt");
  EXPECT_NE(test::read_text(dir / "rank0.txt").find("start every replica with the same flags"),
            std::string::npos)
      << test::read_text(dir / "rank0.txt");
}

}  // namespace
}  // namespace qseg::train

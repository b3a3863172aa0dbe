// Replicas in one process (one thread per rank, a real Gloo process group on 127.0.0.1): sums,
// maxima and broadcasts, and the model's synchronized batch norm and activation ranges: two
// replicas with half a batch each get the gradients, batch-norm statistics and ranges of one
// process with the whole batch.
#include "train/replicas.h"

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <thread>

#include "test_util.h"
#include "train/model.h"

namespace qseg::train {
namespace {

// Runs body(replicas) on `world` threads, one replica each; returns their results by rank.
template <typename T>
std::vector<T> on_replicas(int world, const std::function<T(const Replicas&)>& body,
                           double timeout_seconds = 20) {
  const std::string master = "127.0.0.1:" + std::to_string(test::free_tcp_port());
  std::vector<T> results(world);
  std::vector<std::string> errors(world);
  std::vector<std::thread> threads;
  for (int rank = 0; rank < world; ++rank) {
    threads.emplace_back([&, rank] {
      ReplicaOptions options;
      options.world_size = world;
      options.rank = rank;
      options.master = master;
      options.timeout = std::chrono::milliseconds(static_cast<int64_t>(timeout_seconds * 1000));
      auto replicas = Replicas::connect(options);
      if (!replicas.is_ok()) {
        errors[rank] = replicas.status().message();
        return;
      }
      try {
        results[rank] = body(*replicas.value());
      } catch (const std::exception& e) {
        errors[rank] = e.what();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (int rank = 0; rank < world; ++rank) EXPECT_EQ(errors[rank], "") << "rank " << rank;
  return results;
}

TEST(ReplicasTest, SumMaxBroadcastAndBytes) {
  struct Out {
    std::vector<float> sum, max, broadcast;
    std::vector<uint8_t> bytes;
  };
  auto results = on_replicas<Out>(3, [](const Replicas& r) {
    Out out;
    torch::Tensor s = torch::tensor({1.0f, 2.0f}) * (r.rank() + 1);
    r.sum(s);
    torch::Tensor m = torch::tensor({-1.0f * r.rank(), 1.0f * r.rank()});
    r.max(m);
    torch::Tensor b = torch::full({3}, static_cast<float>(r.rank() + 7));
    r.broadcast(b);
    out.sum.assign(s.data_ptr<float>(), s.data_ptr<float>() + 2);
    out.max.assign(m.data_ptr<float>(), m.data_ptr<float>() + 2);
    out.broadcast.assign(b.data_ptr<float>(), b.data_ptr<float>() + 3);
    out.bytes = r.broadcast_bytes(r.rank() == 0 ? std::vector<uint8_t>{1, 2, 3, 4, 5}
                                                : std::vector<uint8_t>{9});
    return out;
  });
  for (const Out& out : results) {
    EXPECT_EQ(out.sum, (std::vector<float>{6, 12}));
    EXPECT_EQ(out.max, (std::vector<float>{0, 2}));
    EXPECT_EQ(out.broadcast, (std::vector<float>{7, 7, 7}));
    EXPECT_EQ(out.bytes, (std::vector<uint8_t>{1, 2, 3, 4, 5}));
  }
}

TEST(ReplicasTest, BadOptionsAreErrors) {
  ReplicaOptions o;
  o.world_size = 2;
  o.rank = 2;
  EXPECT_NE(validate(o).message().find("--rank must be in [0, 1]"), std::string::npos);
  o.rank = 0;
  o.master = "127.0.0.1";
  EXPECT_NE(validate(o).message().find("HOST:PORT"), std::string::npos);
  o.master = "127.0.0.1:70000";
  EXPECT_NE(validate(o).message().find("HOST:PORT"), std::string::npos);
  o.master = "127.0.0.1:29500";
  o.world_size = 0;
  EXPECT_NE(validate(o).message().find("--world-size"), std::string::npos);
}

TEST(ReplicasTest, AMissingReplicaIsATimeoutNotAHang) {
  ReplicaOptions o;
  o.world_size = 2;
  o.rank = 0;
  o.master = "127.0.0.1:" + std::to_string(test::free_tcp_port());
  o.timeout = std::chrono::milliseconds(1500);
  const auto start = std::chrono::steady_clock::now();
  auto replicas = Replicas::connect(o);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_FALSE(replicas.is_ok());
  EXPECT_NE(replicas.status().message().find("rank 0 of 2"), std::string::npos)
      << replicas.status().message();
  EXPECT_LT(seconds, 15.0);
}

DeepLabConfig tiny_config() {
  DeepLabConfig c;
  c.depth_multiplier = 0.25f;
  c.num_classes = 4;
  c.input_height = c.input_width = 33;
  c.output_stride = 8;
  return c;
}

struct StepResult {
  std::vector<torch::Tensor> grads;   // summed over replicas
  std::vector<torch::Tensor> moving;  // batch-norm moving statistics
  std::vector<float> ranges;          // every activation range's min and max
  torch::Tensor logits;               // this replica's
};

// One training forward and backward of the tiny model on examples [first, first + n) of a fixed
// batch, with a loss that sums logits * weights (no data-dependent normalization).
struct Inputs {
  torch::Tensor images = torch::rand({4, 3, 33, 33}) * 2 - 1;
  torch::Tensor weights = torch::randn({4, 4, 5, 5});
};

StepResult train_step(const Replicas* replicas, const Inputs& in, int64_t first, int64_t n,
                      bool quantize) {
  const torch::Tensor& images = in.images;
  const torch::Tensor& weights = in.weights;
  auto model = DeepLabModel::create(tiny_config(), 11);
  EXPECT_TRUE(model.is_ok());
  DeepLabModel& m = model.value();
  ForwardOptions options;
  options.batch_norm_training = true;
  options.batch_norm_decay = 0.9f;
  options.replicas = replicas;
  options.quant.update_ranges = true;
  options.quant.quantize = quantize;
  options.quant.replicas = replicas;
  std::vector<NamedParameter> params = m.parameters();
  for (NamedParameter& p : params) p.tensor.set_requires_grad(true);
  StepResult out;
  // Two steps: the second starts from the ranges and statistics the first left.
  for (int step = 0; step < 2; ++step) {
    for (NamedParameter& p : params) p.tensor.mutable_grad() = torch::Tensor();
    const torch::Tensor logits = m.forward(images.narrow(0, first, n), options);
    (logits * weights.narrow(0, first, n)).sum().backward();
    out.logits = logits.detach();
  }
  for (NamedParameter& p : params) {
    torch::Tensor g =
        p.tensor.grad().defined() ? p.tensor.grad().clone() : torch::zeros_like(p.tensor);
    if (replicas) replicas->sum(g);
    out.grads.push_back(g);
  }
  for (const ConvLayer& l : m.layers()) {
    if (l.moving_mean.defined()) out.moving.push_back(l.moving_mean.clone());
    if (l.moving_variance.defined()) out.moving.push_back(l.moving_variance.clone());
    out.ranges.push_back(l.output_range.min);
    out.ranges.push_back(l.output_range.max);
  }
  for (const auto& [name, range] : m.extra_ranges()) {
    out.ranges.push_back(range.min);
    out.ranges.push_back(range.max);
  }
  return out;
}

// The largest |a - b| of a tensor relative to its own largest |a|, or to a thousandth of the
// largest |a| of all tensors if that is more (some gradients are zero but for roundings).
double max_relative_difference(const std::vector<torch::Tensor>& a,
                               const std::vector<torch::Tensor>& b) {
  double overall = 0;
  for (const torch::Tensor& t : a) overall = std::max(overall, t.abs().max().item<double>());
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double scale = std::max(a[i].abs().max().item<double>(), 1e-3 * overall);
    worst = std::max(worst, (a[i] - b[i]).abs().max().item<double>() / std::max(scale, 1e-12));
  }
  return worst;
}

TEST(ReplicasTest, SynchronizedBatchNormAndRangesEqualOneProcessWithTheWholeBatch) {
  for (bool quantize : {false, true}) {
    SCOPED_TRACE(quantize ? "quantization-aware" : "float");
    torch::manual_seed(5);
    const Inputs inputs;  // made once: the global generator is not for concurrent threads
    // Float training in one process runs libtorch's fused batch norm, replicas the double sums
    // of synchronized batch norm. In this tiny model, whose batch norms see 4 to 100 values,
    // their float roundings grow past 1e-3 on some CPUs: to 0.32 of a tensor's largest gradient
    // on an AVX2-only AMD EPYC, within 1e-3 on AVX-512 Xeons. So the whole batch runs here as a
    // world of one replica (the same sums); DistributedTrainingTest compares the training
    // outcomes of one process and of replicas.
    const StepResult whole = quantize ? train_step(nullptr, inputs, 0, 4, quantize)
                                      : on_replicas<StepResult>(1, [&](const Replicas& r) {
                                          return train_step(&r, inputs, 0, 4, quantize);
                                        })[0];
    auto halves = on_replicas<StepResult>(
        2, [&](const Replicas& r) { return train_step(&r, inputs, 2 * r.rank(), 2, quantize); });
    for (int rank = 0; rank < 2; ++rank) {
      // The same sums in double (the convolutions' float roundings apart).
      EXPECT_LT(max_relative_difference(whole.grads, halves[rank].grads), 1e-4);
      EXPECT_LT(max_relative_difference(whole.moving, halves[rank].moving), 1e-5);
      ASSERT_EQ(whole.ranges.size(), halves[rank].ranges.size());
      for (size_t i = 0; i < whole.ranges.size(); ++i)
        EXPECT_NEAR(whole.ranges[i], halves[rank].ranges[i],
                    1e-4 * std::abs(whole.ranges[i]) + 1e-6);
      EXPECT_LT(
          max_relative_difference({whole.logits.narrow(0, 2 * rank, 2)}, {halves[rank].logits}),
          1e-4);
    }
    // Without synchronization, half batches give other statistics: the test can tell.
    const StepResult half = train_step(nullptr, inputs, 0, 2, quantize);
    EXPECT_GT(max_relative_difference(whole.moving, half.moving), 1e-3);
  }
}

}  // namespace
}  // namespace qseg::train

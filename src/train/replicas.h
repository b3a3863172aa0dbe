// Data-parallel replicas of one training run: the processes of the run (one machine or several)
// joined in a libtorch c10d Gloo process group (rendezvous through a TCPStore that rank 0 hosts),
// and the collectives training needs: sums (gradients, batch-norm moments), maxima (activation
// ranges), and rank 0's bytes to everyone (the starting weights).
//
// Usage:
//   ReplicaOptions options;  // world_size 2, rank 0 or 1, master "127.0.0.1:29500"
//   QSEG_ASSIGN_OR_RETURN(std::unique_ptr<Replicas> replicas, Replicas::connect(options));
//   replicas->sum(gradients);          // in place, every replica gets the same values
//
// Every collective waits at most options.timeout for the others. A replica that died or hangs
// makes the call throw ReplicaError (a clear message, no hang); the process group is unusable
// afterwards. Only src/train sees this header (it is libtorch code, C++17).
#pragma once

#include <torch/torch.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "qseg/status.h"

namespace qseg::train {

struct ReplicaOptions {
  int world_size = 1;
  int rank = 0;
  std::string master = "127.0.0.1:29500";  // HOST:PORT where rank 0 listens
  std::chrono::milliseconds timeout{std::chrono::seconds(300)};
  std::string interface;  // network interface for the Gloo transport (empty: the one that
                          // reaches the master's address; loopback for a local master)
};

// Checks world size, rank, HOST:PORT and timeout; errors name the flag.
Status validate(const ReplicaOptions& options);

// A collective failed: a replica is gone or did not answer in time.
class ReplicaError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Replicas {
 public:
  // Waits (up to the timeout) until all world_size processes have joined.
  static Result<std::unique_ptr<Replicas>> connect(const ReplicaOptions& options);
  ~Replicas();
  Replicas(const Replicas&) = delete;
  Replicas& operator=(const Replicas&) = delete;

  int rank() const { return options_.rank; }
  int world_size() const { return options_.world_size; }
  const ReplicaOptions& options() const { return options_; }

  // In place, over every replica; dense CPU tensors. Throw ReplicaError.
  void sum(torch::Tensor& tensor) const;
  void max(torch::Tensor& tensor) const;
  void broadcast(torch::Tensor& tensor) const;  // rank 0's values to everyone
  // Rank 0's bytes (the argument of the others is ignored).
  std::vector<uint8_t> broadcast_bytes(std::vector<uint8_t> bytes) const;

  // The sum over replicas as an autograd operation: its gradient is the sum over replicas of the
  // gradients (each replica's loss depends on the shared sum). Every replica must call it at the
  // same point of the same graph, so that the backward collectives pair up too.
  torch::Tensor differentiable_sum(const torch::Tensor& tensor) const;

 private:
  Replicas() = default;
  void run(const char* what, const std::function<void()>& collective) const;

  struct Group;  // the c10d store and process group (their headers stay in replicas.cc)
  ReplicaOptions options_;
  std::unique_ptr<Group> group_;
};

}  // namespace qseg::train

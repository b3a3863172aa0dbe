// The c10d Gloo process group behind Replicas, and the messages its failures become.
#include "train/replicas.h"

#include <cstring>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

namespace qseg::train {

struct Replicas::Group {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
};

namespace {

struct HostPort {
  std::string host;
  int port = 0;
};

Result<HostPort> parse_master(const std::string& master) {
  const size_t colon = master.rfind(':');
  const std::string bad =
      "--master must be HOST:PORT with a port in [1, 65535], got '" + master + "'";
  if (colon == std::string::npos || colon == 0 || colon + 1 >= master.size())
    return Status::error(bad);
  HostPort out;
  out.host = master.substr(0, colon);
  if (out.host.size() > 2 && out.host.front() == '[' && out.host.back() == ']')
    out.host = out.host.substr(1, out.host.size() - 2);  // [::1]:29500
  const std::string port = master.substr(colon + 1);
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos)
    return Status::error(bad);
  out.port = std::stoi(port);
  if (out.port < 1 || out.port > 65535) return Status::error(bad);
  return out;
}

bool is_loopback(const std::string& host) {
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1";
}

std::string seconds_text(std::chrono::milliseconds timeout) {
  const double s = timeout.count() / 1000.0;
  char text[32];
  std::snprintf(text, sizeof(text), "%g s", s);
  return text;
}

// Gloo's and c10d's messages start with the source location ("[../gloo/pair.cc:598] ...").
std::string without_location(std::string message) {
  if (!message.empty() && message[0] == '[') {
    const size_t end = message.find("] ");
    if (end != std::string::npos) message = message.substr(end + 2);
  }
  const size_t newline = message.find('\n');
  if (newline != std::string::npos) message = message.substr(0, newline);
  return message;
}

// What a failed collective means for the user.
std::string explain(const std::string& raw, std::chrono::milliseconds timeout) {
  const std::string detail = without_location(raw);
  auto has = [&](const char* s) { return raw.find(s) != std::string::npos; };
  if (has("Timed out") || has("timed out") || has("Timeout") || has("timeout")) {
    return "no answer from another replica within the " + seconds_text(timeout) +
           " timeout (--timeout); it hangs or is far behind (" + detail + ")";
  }
  if (has("closed") || has("reset") || has("Broken pipe") || has("refused") || has("EOF")) {
    return "another replica stopped (" + detail + ")";
  }
  return detail;
}

class AllReduceSum : public torch::autograd::Function<AllReduceSum> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               int64_t replicas) {
    ctx->saved_data["replicas"] = replicas;
    torch::Tensor y = x.detach().clone(at::MemoryFormat::Contiguous);
    reinterpret_cast<const Replicas*>(replicas)->sum(y);
    return y;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const auto* replicas = reinterpret_cast<const Replicas*>(ctx->saved_data["replicas"].toInt());
    torch::Tensor grad = grad_outputs[0].clone(at::MemoryFormat::Contiguous);
    replicas->sum(grad);
    return {grad, torch::Tensor()};
  }
};

}  // namespace

Status validate(const ReplicaOptions& o) {
  if (o.world_size < 1 || o.world_size > 1024)
    return Status::error("--world-size must be in [1, 1024], got " + std::to_string(o.world_size));
  if (o.rank < 0 || o.rank >= o.world_size) {
    return Status::error("--rank must be in [0, " + std::to_string(o.world_size - 1) +
                         "] for --world-size " + std::to_string(o.world_size) + ", got " +
                         std::to_string(o.rank));
  }
  if (o.timeout.count() < 100 || o.timeout > std::chrono::hours(24))
    return Status::error("--timeout must be in [0.1, 86400] seconds");
  if (o.world_size > 1) QSEG_RETURN_IF_ERROR(parse_master(o.master).status());
  return Status::ok();
}

Result<std::unique_ptr<Replicas>> Replicas::connect(const ReplicaOptions& options) {
  QSEG_RETURN_IF_ERROR(validate(options));
  QSEG_ASSIGN_OR_RETURN(const HostPort master, parse_master(options.master));
  std::unique_ptr<Replicas> replicas(new Replicas());
  replicas->options_ = options;
  replicas->group_ = std::make_unique<Group>();
  const std::string where =
      "rank " + std::to_string(options.rank) + " of " + std::to_string(options.world_size) + ": ";
  try {
    c10d::TCPStoreOptions store_options;
    store_options.port = static_cast<uint16_t>(master.port);
    store_options.isServer = options.rank == 0;
    store_options.numWorkers = options.world_size;
    store_options.waitWorkers = true;
    store_options.timeout = options.timeout;
    replicas->group_->store = c10::make_intrusive<c10d::TCPStore>(master.host, store_options);
    auto group_options = c10d::ProcessGroupGloo::Options::create(options.timeout);
    if (!options.interface.empty()) {
      group_options->devices.push_back(
          c10d::ProcessGroupGloo::createDeviceForInterface(options.interface));
    } else if (is_loopback(master.host)) {
      group_options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(
          master.host == "::1" ? "::1" : "127.0.0.1"));
    } else {
      group_options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    }
    group_options->threads = 1;  // one collective at a time: training waits for each
    replicas->group_->group = c10::make_intrusive<c10d::ProcessGroupGloo>(
        replicas->group_->store, options.rank, options.world_size, group_options);
  } catch (const std::exception& e) {
    const std::string raw = e.what();
    if (raw.find("imed out") != std::string::npos || raw.find("imeout") != std::string::npos) {
      return Status::error(where + "not all " + std::to_string(options.world_size) +
                           " replicas joined at " + options.master + " within " +
                           seconds_text(options.timeout) + " (" + without_location(raw) + ")");
    }
    return Status::error(where + "cannot join the replicas at " + options.master + ": " +
                         without_location(raw));
  }
  return replicas;
}

Replicas::~Replicas() = default;

void Replicas::run(const char* what, const std::function<void()>& collective) const {
  try {
    collective();
  } catch (const ReplicaError&) {
    throw;
  } catch (const std::exception& e) {
    throw ReplicaError(std::string(what) + ": " + explain(e.what(), options_.timeout));
  }
}

void Replicas::sum(torch::Tensor& tensor) const {
  if (world_size() == 1) return;
  run("sum across replicas", [&] {
    std::vector<torch::Tensor> tensors{tensor};
    group_->group->allreduce(tensors, c10d::AllreduceOptions{})->wait();
  });
}

void Replicas::max(torch::Tensor& tensor) const {
  if (world_size() == 1) return;
  run("maximum across replicas", [&] {
    std::vector<torch::Tensor> tensors{tensor};
    c10d::AllreduceOptions options;
    options.reduceOp = c10d::ReduceOp::MAX;
    group_->group->allreduce(tensors, options)->wait();
  });
}

void Replicas::broadcast(torch::Tensor& tensor) const {
  if (world_size() == 1) return;
  run("broadcast from rank 0", [&] {
    std::vector<torch::Tensor> tensors{tensor};
    group_->group->broadcast(tensors, c10d::BroadcastOptions{})->wait();
  });
}

std::vector<uint8_t> Replicas::broadcast_bytes(std::vector<uint8_t> bytes) const {
  if (world_size() == 1) return bytes;
  torch::Tensor size = torch::full({1}, static_cast<int64_t>(bytes.size()), torch::kInt64);
  broadcast(size);
  const int64_t n = size.item<int64_t>();
  if (n < 0 || n > (int64_t{1} << 40)) throw ReplicaError("broadcast from rank 0: bad size");
  torch::Tensor data = torch::empty({n}, torch::kUInt8);
  if (rank() == 0 && n > 0) std::memcpy(data.data_ptr<uint8_t>(), bytes.data(), bytes.size());
  broadcast(data);
  return std::vector<uint8_t>(data.data_ptr<uint8_t>(), data.data_ptr<uint8_t>() + n);
}

torch::Tensor Replicas::differentiable_sum(const torch::Tensor& tensor) const {
  if (world_size() == 1) return tensor;
  return AllReduceSum::apply(tensor, reinterpret_cast<int64_t>(this));
}

}  // namespace qseg::train

#include "libpsy/dist/process_group.h"

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#ifdef PSY_HAVE_NCCL
#ifndef USE_C10D_NCCL
#define USE_C10D_NCCL
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <cstdlib>

#include "libpsy/core/error.h"

namespace psy::dist {

// Collectives behind one interface, whatever c10d class (ProcessGroup in 1.13, Backend in 2.x)
// the backend derives from.
struct ProcessGroup::Impl {
  virtual ~Impl() = default;
  virtual void all_reduce(std::vector<at::Tensor>& tensors, c10d::ReduceOp op) = 0;
  virtual void broadcast(std::vector<at::Tensor>& tensors, int root) = 0;
  virtual void barrier() = 0;
  c10::intrusive_ptr<c10d::Store> store;  // kept alive as long as the group
};

namespace {

template <typename Group>
struct C10dImpl : ProcessGroup::Impl {
  c10::intrusive_ptr<Group> group;
  void all_reduce(std::vector<at::Tensor>& tensors, c10d::ReduceOp op) override {
    c10d::AllreduceOptions opts;
    opts.reduceOp = op;
    group->allreduce(tensors, opts)->wait();
  }
  void broadcast(std::vector<at::Tensor>& tensors, int root) override {
    c10d::BroadcastOptions opts;
    opts.rootRank = root;
    opts.rootTensor = 0;
    group->broadcast(tensors, opts)->wait();
  }
  void barrier() override { group->barrier()->wait(); }
};

bool is_loopback(const std::string& host) {
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1";
}

std::shared_ptr<::gloo::transport::Device> gloo_device(const DistEnv& env) {
  if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname != nullptr && *ifname != '\0') {
    std::string first(ifname);
    first = first.substr(0, first.find(','));
    return c10d::ProcessGroupGloo::createDeviceForInterface(first);
  }
  if (is_loopback(env.master_addr)) return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

c10::intrusive_ptr<c10d::Store> make_store(const DistEnv& env, std::chrono::milliseconds timeout) {
  c10d::TCPStoreOptions opts;
  opts.port = static_cast<std::uint16_t>(env.master_port);
  opts.timeout = timeout;
  opts.numWorkers = static_cast<std::size_t>(env.world_size);
  if (env.use_agent_store) {
    opts.isServer = false;
    opts.waitWorkers = false;
    auto tcp = c10::make_intrusive<c10d::TCPStore>(env.master_addr, opts);
    return c10::make_intrusive<c10d::PrefixStore>("/worker/attempt_" + std::to_string(env.restart_count), tcp);
  }
  opts.isServer = env.rank == 0;
  opts.waitWorkers = true;
  opts.multiTenant = true;
  return c10::make_intrusive<c10d::TCPStore>(env.master_addr, opts);
}

[[noreturn]] void rethrow(const std::string& what, const DistEnv& env, const std::exception& e) {
  std::string msg = e.what();
  msg = msg.substr(0, msg.find('\n'));
  throw Error("data parallel: rank " + std::to_string(env.rank) + " of " + std::to_string(env.world_size) + ": " +
                  what + " (MASTER_ADDR " + env.master_addr + ", MASTER_PORT " + std::to_string(env.master_port) +
                  "): " + msg,
              kExitFailure);
}

}  // namespace

std::vector<std::string> available_backends() {
#ifdef PSY_HAVE_NCCL
  return {"gloo", "nccl"};
#else
  return {"gloo"};
#endif
}

ProcessGroup::ProcessGroup() = default;

ProcessGroup ProcessGroup::join(const DistEnv& env, const std::string& backend, const torch::Device& device,
                                std::chrono::milliseconds timeout) {
  ProcessGroup pg;
  pg.rank_ = env.rank;
  pg.world_size_ = env.world_size;
  std::string chosen = backend;
  if (chosen == "auto") {
#ifdef PSY_HAVE_NCCL
    chosen = device.is_cuda() ? "nccl" : "gloo";
#else
    chosen = "gloo";
#endif
  }
  if (chosen != "gloo" && chosen != "nccl")
    throw Error("data parallel: backend " + expected_found("gloo, nccl or auto", "'" + backend + "'"));
#ifndef PSY_HAVE_NCCL
  if (chosen == "nccl")
    throw Error("data parallel: backend 'nccl' needs psy built against a CUDA LibTorch with NCCL (-DPSY_CUDA=ON); this build has: gloo");
#endif
  pg.backend_ = chosen;
  pg.device_ = chosen == "nccl" ? device : torch::Device(torch::kCPU);
  if (!env.distributed()) return pg;  // a group of one: no store, no backend

  c10::intrusive_ptr<c10d::Store> store;
  try {
    store = make_store(env, timeout);
  } catch (const std::exception& e) {
    rethrow("cannot reach the rendezvous store", env, e);
  }
  try {
    if (chosen == "gloo") {
      auto opts = c10d::ProcessGroupGloo::Options::create(timeout);
      opts->devices.push_back(gloo_device(env));
      opts->threads = 2;
      auto impl = std::make_shared<C10dImpl<c10d::ProcessGroupGloo>>();
      impl->group = c10::make_intrusive<c10d::ProcessGroupGloo>(store, env.rank, env.world_size, opts);
      impl->store = store;
      pg.impl_ = impl;
    }
#ifdef PSY_HAVE_NCCL
    if (chosen == "nccl") {
      auto opts = c10d::ProcessGroupNCCL::Options::create();
      opts->timeout = timeout;
      auto impl = std::make_shared<C10dImpl<c10d::ProcessGroupNCCL>>();
      impl->group = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, env.rank, env.world_size, opts);
      impl->store = store;
      pg.impl_ = impl;
    }
#endif
  } catch (const std::exception& e) {
    rethrow("cannot start the " + chosen + " process group", env, e);
  }
  return pg;
}

void ProcessGroup::all_reduce_sum(std::vector<torch::Tensor>& tensors) const {
  if (!impl_ || tensors.empty()) return;
  impl_->all_reduce(tensors, c10d::ReduceOp::SUM);
}

double ProcessGroup::all_reduce_sum(double value) const {
  if (!impl_) return value;
  std::vector<at::Tensor> t = {torch::full({1}, value, torch::TensorOptions().dtype(torch::kFloat64).device(device_))};
  impl_->all_reduce(t, c10d::ReduceOp::SUM);
  return t[0].cpu().item<double>();
}

double ProcessGroup::all_reduce_max(double value) const {
  if (!impl_) return value;
  std::vector<at::Tensor> t = {torch::full({1}, value, torch::TensorOptions().dtype(torch::kFloat64).device(device_))};
  impl_->all_reduce(t, c10d::ReduceOp::MAX);
  return t[0].cpu().item<double>();
}

void ProcessGroup::broadcast(std::vector<torch::Tensor>& tensors, int root) const {
  if (!impl_ || tensors.empty()) return;
  impl_->broadcast(tensors, root);
}

void ProcessGroup::barrier() const {
  if (impl_) impl_->barrier();
}

}  // namespace psy::dist

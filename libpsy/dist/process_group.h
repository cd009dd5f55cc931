// A data-parallel process group on PyTorch's c10d: Gloo for CPU tensors, NCCL for CUDA tensors
// when LibTorch was built with it (PSY_HAVE_NCCL). Rendezvous goes through a c10d TCPStore at
// MASTER_ADDR:MASTER_PORT exactly as torch.distributed's env:// init does: rank 0 hosts the
// store, or, under torchrun's agent store (TORCHELASTIC_USE_AGENT_STORE=True), every rank
// connects as a client under the prefix "/worker/attempt_<restart count>".
// A group of one process does no communication, so callers need no special case.
#pragma once
#include <torch/torch.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "libpsy/dist/torchrun_env.h"

namespace psy::dist {

// "gloo", plus "nccl" when compiled with CUDA and NCCL.
std::vector<std::string> available_backends();

class ProcessGroup {
 public:
  // A group of one (rank 0 of 1); every collective returns at once.
  ProcessGroup();

  // Joins the group described by `env`. backend: "gloo", "nccl" or "auto" (nccl when
  // `device` is CUDA and NCCL is compiled in, else gloo). For NCCL, `device` is this rank's
  // GPU (e.g. cuda:<LOCAL_RANK>). Throws psy::Error (exit code 1) when the rendezvous or the
  // backend fails, or (exit code 2) for a backend this build lacks.
  static ProcessGroup join(const DistEnv& env, const std::string& backend = "auto",
                           const torch::Device& device = torch::kCPU,
                           std::chrono::milliseconds timeout = std::chrono::minutes(30));

  int rank() const { return rank_; }
  int world_size() const { return world_size_; }
  const std::string& backend() const { return backend_; }
  // Where collective tensors must live (CPU for Gloo, the rank's GPU for NCCL).
  torch::Device device() const { return device_; }

  // Sums each tensor over ranks in place (one collective per tensor; see gradient_buckets.h
  // for coalescing). Tensors must be contiguous and on device().
  void all_reduce_sum(std::vector<torch::Tensor>& tensors) const;
  // Sum of a number over ranks (computed in float64).
  double all_reduce_sum(double value) const;
  double all_reduce_max(double value) const;
  // Overwrites each tensor with root's values.
  void broadcast(std::vector<torch::Tensor>& tensors, int root = 0) const;
  void barrier() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
  int rank_ = 0;
  int world_size_ = 1;
  std::string backend_ = "none";
  torch::Device device_ = torch::kCPU;
};

}  // namespace psy::dist

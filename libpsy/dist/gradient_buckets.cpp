#include "libpsy/dist/gradient_buckets.h"

#include "libpsy/core/error.h"

namespace psy::dist {

std::vector<std::vector<std::size_t>> plan_buckets(const std::vector<torch::Tensor>& params, std::size_t bucket_bytes) {
  std::vector<std::vector<std::size_t>> buckets;
  std::size_t bytes = 0;
  for (std::size_t i = 0; i < params.size(); ++i) {
    const auto& p = params[i];
    const std::size_t size = static_cast<std::size_t>(p.numel()) * p.element_size();
    bool fresh = buckets.empty() || bytes + size > bucket_bytes;
    if (!fresh) {
      const auto& first = params[buckets.back().front()];
      fresh = first.scalar_type() != p.scalar_type() || first.device() != p.device();
    }
    if (fresh) {
      buckets.emplace_back();
      bytes = 0;
    }
    buckets.back().push_back(i);
    bytes += size;
  }
  return buckets;
}

namespace {

// Runs `fn` on a flat copy of each bucket's tensors (obtained with `get`), then copies back.
template <typename Get, typename Put>
void over_buckets(const ProcessGroup& group, const std::vector<torch::Tensor>& params, std::size_t bucket_bytes,
                  Get get, Put put, bool reduce, int root) {
  torch::NoGradGuard no_grad;
  for (const auto& bucket : plan_buckets(params, bucket_bytes)) {
    std::vector<torch::Tensor> parts;
    parts.reserve(bucket.size());
    for (std::size_t i : bucket) parts.push_back(get(i).reshape({-1}));
    std::vector<torch::Tensor> flat = {torch::cat(parts).to(group.device())};
    if (reduce)
      group.all_reduce_sum(flat);
    else
      group.broadcast(flat, root);
    int64_t offset = 0;
    for (std::size_t i : bucket) {
      const int64_t n = params[i].numel();
      put(i, flat[0].narrow(0, offset, n).view(params[i].sizes()));
      offset += n;
    }
  }
}

}  // namespace

void all_reduce_gradients(const ProcessGroup& group, const std::vector<torch::Tensor>& params, std::size_t bucket_bytes) {
  if (group.world_size() <= 1) return;
  over_buckets(
      group, params, bucket_bytes,
      [&](std::size_t i) {
        const auto& g = params[i].grad();
        return g.defined() ? g : torch::zeros_like(params[i]);
      },
      [&](std::size_t i, const torch::Tensor& summed) {
        auto& g = params[i].mutable_grad();
        if (g.defined())
          g.copy_(summed);
        else
          g = summed.to(params[i].device()).clone();
      },
      true, 0);
}

void broadcast_parameters(const ProcessGroup& group, const std::vector<torch::Tensor>& params, int root,
                          std::size_t bucket_bytes) {
  if (group.world_size() <= 1) return;
  if (root < 0 || root >= group.world_size())
    throw Error("data parallel: broadcast root " + expected_found("0.." + std::to_string(group.world_size() - 1), std::to_string(root)));
  over_buckets(
      group, params, bucket_bytes, [&](std::size_t i) { return params[i].detach(); },
      [&](std::size_t i, const torch::Tensor& value) { params[i].detach().copy_(value); }, false, root);
}

}  // namespace psy::dist

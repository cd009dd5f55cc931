#include "libpsy/nn/kv_cache.h"

#include <algorithm>

#include "libpsy/core/error.h"

namespace psy {

KVCache::KVCache(int64_t num_layers)
    : keys_(static_cast<std::size_t>(num_layers)),
      values_(static_cast<std::size_t>(num_layers)),
      lengths_(static_cast<std::size_t>(num_layers), 0) {}

std::pair<torch::Tensor, torch::Tensor> KVCache::append(int64_t layer, const torch::Tensor& k, const torch::Tensor& v) {
  if (layer < 0 || layer >= num_layers()) {
    throw Error("KV cache: layer " + std::to_string(layer) + " out of range (cache has " +
                std::to_string(num_layers()) + " layers)", kExitFailure);
  }
  torch::NoGradGuard no_grad;
  const auto i = static_cast<std::size_t>(layer);
  const int64_t len = lengths_[i];
  const int64_t t = k.size(2);
  torch::Tensor& kb = keys_[i];
  torch::Tensor& vb = values_[i];
  if (!kb.defined() || kb.size(2) < len + t || kb.size(0) != k.size(0)) {
    const int64_t cap = std::max<int64_t>({len + t, kb.defined() ? 2 * kb.size(2) : 0, 16});
    torch::Tensor nk = torch::empty({k.size(0), k.size(1), cap, k.size(3)}, k.options());
    torch::Tensor nv = torch::empty({v.size(0), v.size(1), cap, v.size(3)}, v.options());
    if (len > 0) {
      nk.narrow(2, 0, len).copy_(kb.narrow(2, 0, len));
      nv.narrow(2, 0, len).copy_(vb.narrow(2, 0, len));
    }
    kb = nk;
    vb = nv;
  }
  kb.narrow(2, len, t).copy_(k);
  vb.narrow(2, len, t).copy_(v);
  lengths_[i] = len + t;
  return {kb.narrow(2, 0, len + t), vb.narrow(2, 0, len + t)};
}

void KVCache::select_rows(const torch::Tensor& rows) {
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    if (!keys_[i].defined()) continue;
    keys_[i] = keys_[i].index_select(0, rows.to(keys_[i].device()));
    values_[i] = values_[i].index_select(0, rows.to(values_[i].device()));
  }
}

void KVCache::clear() {
  for (auto& k : keys_) k = torch::Tensor();
  for (auto& v : values_) v = torch::Tensor();
  std::fill(lengths_.begin(), lengths_.end(), 0);
}

}  // namespace psy

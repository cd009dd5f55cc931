#include "libpsy/nn/kv_cache.h"

#include <cstring>

#include <algorithm>

#include "libpsy/core/error.h"

namespace psy {

KVCache::KVCache(int64_t num_layers)
    : keys_(static_cast<std::size_t>(num_layers)),
      values_(static_cast<std::size_t>(num_layers)),
      lengths_(static_cast<std::size_t>(num_layers), 0) {}

int64_t KVCache::batch() const { return keys_.empty() || !keys_[0].defined() ? 0 : keys_[0].size(0); }

torch::ScalarType KVCache::scalar_type() const {
  return keys_.empty() || !keys_[0].defined() ? torch::ScalarType::Undefined : keys_[0].scalar_type();
}

void KVCache::resize_layer(std::size_t i, int64_t rows, int64_t capacity, int64_t front_offset) {
  torch::Tensor& kb = keys_[i];
  torch::Tensor& vb = values_[i];
  const int64_t len = lengths_[i];
  // Zeros, not empty: columns a row has not filled are masked, but garbage could be NaN (NaN * 0 = NaN).
  torch::Tensor nk = torch::zeros({rows, kb.size(1), capacity, kb.size(3)}, kb.options());
  torch::Tensor nv = torch::zeros({rows, vb.size(1), capacity, vb.size(3)}, vb.options());
  const int64_t keep = std::min(rows, kb.size(0));
  if (len > 0 && keep > 0) {
    nk.narrow(0, 0, keep).narrow(2, front_offset, len).copy_(kb.narrow(0, 0, keep).narrow(2, 0, len));
    nv.narrow(0, 0, keep).narrow(2, front_offset, len).copy_(vb.narrow(0, 0, keep).narrow(2, 0, len));
  }
  kb = nk;
  vb = nv;
}

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
  if (kb.defined() && kb.size(0) != k.size(0) && len > 0) {
    throw Error("KV cache: " + std::to_string(k.size(0)) + " rows appended to a cache of " + std::to_string(kb.size(0)) +
                    " rows",
                kExitFailure);
  }
  if (!kb.defined() || kb.size(0) != k.size(0)) {
    const int64_t cap = std::max<int64_t>({len + t, reserved_, 16});
    kb = torch::empty({k.size(0), k.size(1), cap, k.size(3)}, k.options());
    vb = torch::empty({v.size(0), v.size(1), cap, v.size(3)}, v.options());
    lengths_[i] = 0;
  }
  const int64_t at = lengths_[i];
  extend(layer, t);
  kb.narrow(2, at, t).copy_(k);
  vb.narrow(2, at, t).copy_(v);
  return {kb.narrow(2, 0, at + t), vb.narrow(2, 0, at + t)};
}

std::pair<torch::Tensor, torch::Tensor> KVCache::extend(int64_t layer, int64_t t) {
  const auto i = static_cast<std::size_t>(layer);
  if (layer < 0 || layer >= num_layers() || !keys_[i].defined())
    throw Error("KV cache: layer " + std::to_string(layer) + " has no rows to extend", kExitFailure);
  const int64_t len = lengths_[i];
  if (keys_[i].size(2) < len + t) resize_layer(i, keys_[i].size(0), std::max<int64_t>(len + t, 2 * keys_[i].size(2)), 0);
  lengths_[i] = len + t;
  return {keys_[i], values_[i]};
}

std::pair<torch::Tensor, torch::Tensor> KVCache::append_step(int64_t layer, const void* k, const void* v) {
  auto [kb, vb] = extend(layer, 1);
  if (!kb.device().is_cpu())
    throw Error("KV cache: append_step writes CPU buffers; layer " + std::to_string(layer) + " is on " + kb.device().str(),
                kExitFailure);
  const int64_t at = lengths_[static_cast<std::size_t>(layer)] - 1, rows = kb.size(0), heads = kb.size(1);
  const auto bytes = static_cast<std::size_t>(kb.size(3) * kb.element_size());
  auto* kp = static_cast<char*>(kb.data_ptr());
  auto* vp = static_cast<char*>(vb.data_ptr());
  const auto* from_k = static_cast<const char*>(k);
  const auto* from_v = static_cast<const char*>(v);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t g = 0; g < heads; ++g) {
      const auto from = static_cast<std::size_t>(r * heads + g) * bytes;
      std::memcpy(kp + (r * kb.stride(0) + g * kb.stride(1) + at * kb.stride(2)) * kb.element_size(), from_k + from, bytes);
      std::memcpy(vp + (r * vb.stride(0) + g * vb.stride(1) + at * vb.stride(2)) * vb.element_size(), from_v + from, bytes);
    }
  return {kb, vb};
}

void KVCache::select_rows(const torch::Tensor& rows) {
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    if (!keys_[i].defined()) continue;
    keys_[i] = keys_[i].index_select(0, rows.to(keys_[i].device()));
    values_[i] = values_[i].index_select(0, rows.to(values_[i].device()));
  }
}

void KVCache::write_row(int64_t row, const KVCache& single) {
  torch::NoGradGuard no_grad;
  if (single.num_layers() != num_layers() || single.batch() != 1 || row < 0 || row >= batch())
    throw Error("KV cache: write_row needs a batch-1 cache of " + std::to_string(num_layers()) + " layers and a row below " +
                    std::to_string(batch()),
                kExitFailure);
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    const int64_t n = single.lengths_[i];
    if (n > lengths_[i])
      throw Error("KV cache: a " + std::to_string(n) + "-position prompt does not fit in " + std::to_string(lengths_[i]) +
                      " cached columns (make_room_in_front first)",
                  kExitFailure);
    const int64_t at = lengths_[i] - n;
    keys_[i][row].narrow(1, at, n).copy_(single.keys_[i][0].narrow(1, 0, n));
    values_[i][row].narrow(1, at, n).copy_(single.values_[i][0].narrow(1, 0, n));
  }
}

void KVCache::make_room_in_front(int64_t columns) {
  if (columns <= 0) return;
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    if (!keys_[i].defined()) continue;
    resize_layer(i, keys_[i].size(0), std::max(keys_[i].size(2), lengths_[i] + columns), columns);
    lengths_[i] += columns;
  }
}

void KVCache::drop_front(int64_t columns) {
  if (columns <= 0) return;
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    if (!keys_[i].defined()) continue;
    const int64_t keep = lengths_[i] - std::min(columns, lengths_[i]);
    if (keep > 0) {  // overlapping ranges: copy through a temporary
      keys_[i].narrow(2, 0, keep).copy_(keys_[i].narrow(2, lengths_[i] - keep, keep).clone());
      values_[i].narrow(2, 0, keep).copy_(values_[i].narrow(2, lengths_[i] - keep, keep).clone());
    }
    lengths_[i] = keep;
  }
}

void KVCache::add_rows(int64_t rows) {
  if (rows <= 0) return;
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    if (!keys_[i].defined()) continue;
    resize_layer(i, keys_[i].size(0) + rows, keys_[i].size(2), 0);
  }
}

KVCache KVCache::prefix_copy(int64_t columns, int64_t capacity) const {
  if (batch() != 1 || columns < 0 || columns > length() || capacity < columns)
    throw Error("KV cache: prefix_copy needs a batch-1 cache and 0 <= columns (" + std::to_string(columns) +
                    ") <= length (" + std::to_string(length()) + ") <= capacity (" + std::to_string(capacity) + ")",
                kExitFailure);
  torch::NoGradGuard no_grad;
  KVCache out(num_layers());
  out.reserved_ = capacity;
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    const torch::Tensor& k = keys_[i];
    const torch::Tensor& v = values_[i];
    out.keys_[i] = torch::empty({1, k.size(1), std::max<int64_t>(capacity, 1), k.size(3)}, k.options());
    out.values_[i] = torch::empty({1, v.size(1), std::max<int64_t>(capacity, 1), v.size(3)}, v.options());
    out.keys_[i].narrow(2, 0, columns).copy_(k.narrow(2, 0, columns));
    out.values_[i].narrow(2, 0, columns).copy_(v.narrow(2, 0, columns));
    out.lengths_[i] = columns;
  }
  return out;
}

int64_t KVCache::bytes() const {
  int64_t total = 0;
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    if (keys_[i].defined()) total += static_cast<int64_t>(keys_[i].nbytes());
    if (values_[i].defined()) total += static_cast<int64_t>(values_[i].nbytes());
  }
  return total;
}

void KVCache::clear() {
  for (auto& k : keys_) k = torch::Tensor();
  for (auto& v : values_) v = torch::Tensor();
  std::fill(lengths_.begin(), lengths_.end(), 0);
}

}  // namespace psy

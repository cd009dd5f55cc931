// Key/value cache for incremental decoding: per layer, keys and values [B, kv_heads, S, head_dim]
// in buffers that grow by doubling (no re-concatenation at every step). Inference only
// (writes in place; do not backpropagate through it).
#pragma once
#include <cstdint>
#include <utility>
#include <vector>

#include <torch/torch.h>

namespace psy {

class KVCache {
 public:
  explicit KVCache(int64_t num_layers);

  // Positions already cached (those of layer 0; every layer has the same after a forward).
  int64_t length() const { return lengths_.empty() ? 0 : lengths_[0]; }
  int64_t num_layers() const { return static_cast<int64_t>(lengths_.size()); }

  // Appends k, v [B, kv_heads, T, head_dim] to `layer`; returns the cached keys and values so
  // far [B, kv_heads, length + T, head_dim] (views into the buffers).
  std::pair<torch::Tensor, torch::Tensor> append(int64_t layer, const torch::Tensor& k, const torch::Tensor& v);

  // Keeps only the given batch rows (e.g. to drop finished sequences). rows: int64 indices.
  void select_rows(const torch::Tensor& rows);
  void clear();

 private:
  std::vector<torch::Tensor> keys_, values_;  // capacity buffers
  std::vector<int64_t> lengths_;
};

}  // namespace psy

// Key/value cache for incremental decoding: per layer, keys and values [B, kv_heads, S, head_dim]
// in preallocated buffers (reserve() sizes them once; without it they grow by doubling), so a
// decode step writes in place and never re-concatenates. Inference only (do not backpropagate
// through it).
//
// Continuous batching (libpsy/generate/continuous_batching.h) keeps one row per slot, all rows
// ending at the same column: a new prompt's prefill (its own batch-1 cache) is copied into the
// last columns of a row (write_row), columns nobody needs any more are dropped from the front
// (drop_front), and make_room_in_front() shifts every row right when a prompt is longer than the
// columns in the cache. Which columns of a row are real is the caller's attention mask.
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
  int64_t length_of(int64_t layer) const { return lengths_.at(static_cast<std::size_t>(layer)); }
  int64_t num_layers() const { return static_cast<int64_t>(lengths_.size()); }
  int64_t batch() const;  // rows in the buffers (0 before the first append)
  // The buffers' dtype (that of the first layer; Undefined before the first append).
  torch::ScalarType scalar_type() const;

  // Sizes the buffers for `capacity` positions at their first allocation (a static cache: no
  // re-allocation while length() stays within it). Takes effect on the next allocation.
  void reserve(int64_t capacity) { reserved_ = capacity; }

  // Appends k, v [B, kv_heads, T, head_dim] to `layer`; returns the cached keys and values so
  // far [B, kv_heads, length + T, head_dim] (views into the buffers).
  std::pair<torch::Tensor, torch::Tensor> append(int64_t layer, const torch::Tensor& k, const torch::Tensor& v);

  // A decode step's keys and values appended to `layer` without LibTorch calls (a CPU cache that
  // holds rows): k and v are one position per row, [B, kv_heads, head_dim] contiguous in the
  // buffers' dtype. Grows the buffers as append does; returns the whole buffers [B, kv_heads,
  // capacity, head_dim], whose first length_of(layer) columns are cached.
  std::pair<torch::Tensor, torch::Tensor> append_step(int64_t layer, const void* k, const void* v);
  // Keeps only the given batch rows (e.g. to drop finished sequences). rows: int64 indices.
  void select_rows(const torch::Tensor& rows);

  // Copies every layer of `single` (a batch-1 cache of n <= length() positions) into the last n
  // columns of `row`. The columns before them keep stale values the caller masks out.
  void write_row(int64_t row, const KVCache& single);

  // Adds `columns` empty columns before the cached ones (every row shifts right).
  void make_room_in_front(int64_t columns);

  // Drops the first `columns` columns (every row shifts left; length() shrinks by `columns`).
  void drop_front(int64_t columns);

  // Appends `rows` empty rows (to be filled with write_row).
  void add_rows(int64_t rows);

  // A new batch-1 cache holding a copy of this batch-1 cache's first `columns` positions, its
  // buffers sized for `capacity` positions (a prompt that starts like a cached one continues from it).
  KVCache prefix_copy(int64_t columns, int64_t capacity) const;

  // Bytes held by the buffers (capacity, not only the cached positions).
  int64_t bytes() const;

  void clear();

 private:
  // Makes room for t more positions in `layer` (growing its buffers) and counts them as cached;
  // returns the whole buffers, whose columns length_of(layer) - t .. - 1 the caller fills.
  std::pair<torch::Tensor, torch::Tensor> extend(int64_t layer, int64_t t);
  // Makes layer i's buffers hold `rows` x `capacity` (copying what is cached).
  void resize_layer(std::size_t i, int64_t rows, int64_t capacity, int64_t front_offset);

  std::vector<torch::Tensor> keys_, values_;  // capacity buffers
  std::vector<int64_t> lengths_;
  int64_t reserved_ = 0;
};

}  // namespace psy

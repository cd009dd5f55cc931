#include "libpsy/train/batch_plan.h"

#include <algorithm>
#include <numeric>

#include "libpsy/core/error.h"
#include "libpsy/core/rng.h"

namespace psy {

namespace {
uint64_t epoch_seed(uint64_t seed, long epoch) {
  return seed * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(epoch) + 1;
}
}  // namespace

std::vector<MicroBatch> plan_epoch(const std::vector<size_t>& lengths, size_t micro_batch, bool group_by_length,
                                   uint64_t seed, long epoch, bool shuffle) {
  if (micro_batch == 0) throw Error("train.micro_batch: " + expected_found("at least 1", "0"));
  std::vector<size_t> order(lengths.size());
  std::iota(order.begin(), order.end(), 0);
  Rng rng(epoch_seed(seed, epoch));
  if (shuffle) shuffle_in_place(order, rng);
  std::vector<MicroBatch> batches;
  if (!group_by_length) {
    for (size_t i = 0; i < order.size(); i += micro_batch)
      batches.emplace_back(order.begin() + i, order.begin() + std::min(order.size(), i + micro_batch));
    return batches;
  }
  const size_t mega = micro_batch * 50;
  for (size_t m = 0; m < order.size(); m += mega) {
    auto first = order.begin() + m, last = order.begin() + std::min(order.size(), m + mega);
    std::stable_sort(first, last, [&](size_t a, size_t b) { return lengths[a] > lengths[b]; });
    for (auto it = first; it < last; it += std::min<std::ptrdiff_t>(micro_batch, last - it))
      batches.emplace_back(it, it + std::min<std::ptrdiff_t>(micro_batch, last - it));
  }
  if (shuffle) shuffle_in_place(batches, rng);
  size_t longest = 0;
  for (size_t b = 0; b < batches.size(); ++b) {
    if (lengths[batches[b][0]] > lengths[batches[longest][0]]) longest = b;
  }
  if (!batches.empty()) std::swap(batches[0], batches[longest]);
  return batches;
}

void refuse_overlong(const std::vector<size_t>& lengths, size_t max_len, const std::vector<std::string>& labels) {
  for (size_t i = 0; i < lengths.size(); ++i) {
    if (lengths[i] <= max_len) continue;
    const std::string who = i < labels.size() && !labels[i].empty() ? labels[i] : "sample #" + std::to_string(i);
    throw Error(who + ": " + expected_found("at most data.max_seq_len = " + std::to_string(max_len) + " tokens",
                                          std::to_string(lengths[i]) + " tokens") +
                "; psy never packs a sample across the limit (samples built by psy are fitted to it: rebuild "
                "the data or raise data.max_seq_len)");
  }
}

std::vector<MicroBatch> plan_packs(const std::vector<size_t>& lengths, size_t max_len, uint64_t seed,
                                   const std::vector<std::string>& labels) {
  if (max_len == 0) throw Error("packing length: " + expected_found("at least 1 token", "0"));
  refuse_overlong(lengths, max_len, labels);
  std::vector<size_t> order(lengths.size());
  std::iota(order.begin(), order.end(), 0);
  Rng rng(epoch_seed(seed, -1));
  shuffle_in_place(order, rng);
  std::vector<MicroBatch> bins;
  std::vector<size_t> fill;
  for (size_t i : order) {
    size_t b = 0;
    while (b < bins.size() && fill[b] + lengths[i] > max_len) ++b;
    if (b == bins.size()) {
      bins.emplace_back();
      fill.push_back(0);
    }
    bins[b].push_back(i);
    fill[b] += lengths[i];
  }
  return bins;
}

size_t padded_tokens(const std::vector<size_t>& lengths, const MicroBatch& batch) {
  size_t longest = 0;
  for (size_t i : batch) longest = std::max(longest, lengths[i]);
  return longest * batch.size();
}

}  // namespace psy

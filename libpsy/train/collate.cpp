#include "libpsy/train/collate.h"

#include <algorithm>

#include "libpsy/core/error.h"

namespace psy {

Batch collate(const std::vector<const TrainSequence*>& seqs, int64_t pad_id) {
  if (seqs.empty()) throw Error("collate: an empty micro-batch");
  size_t longest = 0;
  for (size_t b = 0; b < seqs.size(); ++b) {
    if (seqs[b]->ids.size() != seqs[b]->weights.size())
      throw Error("collate: sequence " + std::to_string(b) + ": " +
                  expected_found(std::to_string(seqs[b]->ids.size()) + " weights (one per token)",
                                 std::to_string(seqs[b]->weights.size())));
    longest = std::max(longest, seqs[b]->ids.size());
  }
  const int64_t B = static_cast<int64_t>(seqs.size()), T = static_cast<int64_t>(longest);
  Batch out;
  out.input_ids = torch::full({B, T}, pad_id, torch::kLong);
  out.attention_mask = torch::zeros({B, T}, torch::kLong);
  out.label_weights = torch::zeros({B, T}, torch::kFloat32);
  auto ids = out.input_ids.accessor<int64_t, 2>();
  auto mask = out.attention_mask.accessor<int64_t, 2>();
  auto w = out.label_weights.accessor<float, 2>();
  for (int64_t b = 0; b < B; ++b) {
    const auto& s = *seqs[b];
    for (size_t t = 0; t < s.ids.size(); ++t) {
      ids[b][t] = s.ids[t];
      mask[b][t] = 1;
      w[b][t] = t == 0 ? 0.0f : s.weights[t];
    }
    out.real_tokens += static_cast<int64_t>(s.ids.size());
  }
  return out;
}

TrainSequence pack_sequences(const std::vector<const TrainSequence*>& seqs) {
  TrainSequence out;
  for (const auto* s : seqs) {
    for (size_t t = 0; t < s->ids.size(); ++t) {
      out.ids.push_back(s->ids[t]);
      out.weights.push_back(t == 0 ? 0.0f : s->weights[t]);
    }
  }
  return out;
}

}  // namespace psy

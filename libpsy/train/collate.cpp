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
    const auto& starts = s.segment_starts;
    if (!starts.empty() && starts[0] != 0)
      throw Error("collate: sequence " + std::to_string(b) + ": segment_starts " +
                  expected_found("a first sample at offset 0", "offset " + std::to_string(starts[0])));
    for (size_t i = 1; i < starts.size(); ++i)
      if (starts[i] <= starts[i - 1] || starts[i] >= s.ids.size())
        throw Error("collate: sequence " + std::to_string(b) + ": segment_starts[" + std::to_string(i) + "] " +
                    expected_found("ascending offsets below " + std::to_string(s.ids.size()),
                                   std::to_string(starts[i])));
    if (starts.size() > 1) out.packed = true;
    size_t segment = 0;  // index into starts of the sample holding token t
    for (size_t t = 0; t < s.ids.size(); ++t) {
      while (segment + 1 < starts.size() && starts[segment + 1] <= t) ++segment;
      const bool first = t == 0 || (!starts.empty() && starts[segment] == t);
      ids[b][t] = s.ids[t];
      mask[b][t] = static_cast<int64_t>(segment) + 1;
      w[b][t] = first ? 0.0f : s.weights[t];
    }
    out.real_tokens += static_cast<int64_t>(s.ids.size());
  }
  return out;
}

Batch collate_padding_free(const std::vector<const TrainSequence*>& seqs, int64_t pad_id) {
  if (seqs.empty()) throw Error("collate: an empty micro-batch");
  TrainSequence row;
  for (size_t b = 0; b < seqs.size(); ++b) {
    const TrainSequence* s = seqs[b];
    if (s->ids.size() != s->weights.size() || s->ids.empty())
      throw Error("collate: sequence " + std::to_string(b) + ": " +
                  expected_found("as many weights as ids (at least one)",
                                 std::to_string(s->ids.size()) + " ids and " + std::to_string(s->weights.size()) +
                                     " weights"));
    const size_t offset = row.ids.size();
    if (s->segment_starts.empty()) row.segment_starts.push_back(offset);
    for (size_t start : s->segment_starts) row.segment_starts.push_back(offset + start);
    row.ids.insert(row.ids.end(), s->ids.begin(), s->ids.end());
    row.weights.insert(row.weights.end(), s->weights.begin(), s->weights.end());
  }
  return collate({&row}, pad_id);  // collate checks the lengths and zeroes each sample's first weight
}

TrainSequence pack_sequences(const std::vector<const TrainSequence*>& seqs) {
  TrainSequence out;
  for (const auto* s : seqs) {
    if (s->ids.empty()) continue;
    if (s->segment_starts.size() > 1)
      throw Error("pack_sequences: a sequence that is already packed cannot be packed again");
    out.segment_starts.push_back(out.ids.size());
    for (size_t t = 0; t < s->ids.size(); ++t) {
      out.ids.push_back(s->ids[t]);
      out.weights.push_back(t == 0 ? 0.0f : s->weights[t]);
    }
  }
  return out;
}

}  // namespace psy

// Turning token sequences into padded tensors for one forward pass.
#pragma once
#include <cstdint>
#include <vector>

#include <torch/torch.h>

namespace psy {

// One training sequence: token ids and their loss weights aligned as labels (weights[j] is
// the weight of ids[j] as a target; weights[0] is never used).
struct TrainSequence {
  std::vector<int64_t> ids;
  std::vector<float> weights;
};

struct Batch {
  torch::Tensor input_ids;       // [B, T] int64, right-padded with pad_id
  torch::Tensor attention_mask;  // [B, T] int64, 1 for real tokens
  torch::Tensor label_weights;   // [B, T] float32, 0 on padding
  int64_t real_tokens = 0;       // sum of the lengths
};

// Right-pads to the longest sequence. Throws psy::Error on ids/weights of different lengths.
Batch collate(const std::vector<const TrainSequence*>& seqs, int64_t pad_id);

// Concatenates sequences into one (packing). The first token of every sequence after the
// first gets weight 0: it would be predicted from the previous sample's last token.
TrainSequence pack_sequences(const std::vector<const TrainSequence*>& seqs);

}  // namespace psy

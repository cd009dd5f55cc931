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
  // Packed samples (pack_sequences): the offset of each sample's first token, ascending from
  // 0. Empty = one sample.
  std::vector<size_t> segment_starts;
};

struct Batch {
  torch::Tensor input_ids;  // [B, T] int64, right-padded with pad_id
  // [B, T] int64: 0 on padding; on real tokens the number of the sample in its row (1, 2, ...;
  // all 1 without packing). With packed rows (`packed`) pass it to training_forward /
  // training_loss (train_forward.h), which restart positions at 0 per sample and keep attention
  // inside each sample; Decoder::forward itself would read any non-zero as "real token" and let
  // samples attend to each other.
  torch::Tensor attention_mask;
  torch::Tensor label_weights;  // [B, T] float32, 0 on padding and on each sample's first token
  int64_t real_tokens = 0;      // sum of the lengths
  bool packed = false;          // some row holds more than one sample
};

// Right-pads to the longest sequence. Throws psy::Error on ids/weights of different lengths or
// segment_starts that are not ascending offsets inside the sequence starting at 0.
Batch collate(const std::vector<const TrainSequence*>& seqs, int64_t pad_id);

// Padding-free batching (train.padding_free, the default): the micro-batch's sequences in ONE
// row [1, sum of lengths] with their sample numbers in attention_mask (as pack_sequences'
// segments), so no position is padding and training_forward / training_loss keep every sample
// its own sequence. The same samples, loss and gradients as collate(); less compute where the
// lengths differ. Already packed sequences keep their own segments.
Batch collate_padding_free(const std::vector<const TrainSequence*>& seqs, int64_t pad_id);

// Padding-free packing: concatenates sequences into one row and records where each starts
// (segment_starts). Training then treats every sample as its own sequence (positions from 0,
// causal attention that never crosses a sample boundary): its loss and gradients equal those
// of the samples unpacked. Each sample's first token has weight 0, as it has unpacked (it is
// never a target).
TrainSequence pack_sequences(const std::vector<const TrainSequence*>& seqs);

}  // namespace psy

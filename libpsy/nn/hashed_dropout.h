// Dropout whose keep-or-drop decision for element i is a pure function of (seed, i): a counter-based
// hash, so the mask never has to be stored. The LoRA branch (lora_branch.h) draws one seed per
// call from LibTorch's generator, applies the mask in forward and applies it again in backward
// (to the input's gradient, and to rebuild the dropped input for lora_A's gradient) where
// torch::dropout keeps a float mask and the dropped input, 8 bytes per input element and
// projection, until backward.
//
// Element i is kept when hash(seed, i) >= threshold, threshold = round(p * 2^32): probability
// 1 - p to within 2^-32. Kept elements are scaled by 1 / (1 - p), as torch::dropout does.
// No LibTorch here: the kernel works on raw float spans.
#pragma once
#include <cstdint>

namespace psy {

struct HashedDropout {
  uint64_t seed = 0;
  uint32_t threshold = 0;  // round(p * 2^32); an element is kept when its hash is >= threshold
  float scale = 1.0f;      // 1 / (1 - p)
};

// p in [0, 1); throws psy::Error otherwise.
HashedDropout make_hashed_dropout(uint64_t seed, double p);

// Whether element `index` is kept (the scalar definition the kernel must equal).
bool hashed_dropout_keeps(const HashedDropout& d, uint64_t index);

// out[k] = x[k] * (keeps(first + k) ? scale : 0) for k in [0, n). x and out may be the same array.
void apply_hashed_dropout(const HashedDropout& d, const float* x, float* out, int64_t n, uint64_t first);

}  // namespace psy

// fp32 weights that hold only bf16 values. Models ship in bf16 (SmolLM2, Mistral, Llama-3, Qwen),
// so run in fp32 every weight is a bf16 value widened: the same numbers fit in half the bytes. A
// decode step reads every weight once and waits on memory, so the few-rows kernel reads a bf16 copy
// and widens each value back (FewRowsProduct::widen_bf16_weights): the same products and sums, bit
// for bit, for half the memory traffic.
#pragma once

#include <cstdint>

#include <torch/torch.h>

namespace psy {

// True when t is fp32 and every value's low 16 bits are zero, so that it converts to bf16 and back
// unchanged (NaN and infinity included).
bool holds_only_bf16_values(const torch::Tensor& t);

// The bf16 copy of one weight, made on first use and made again when the weight has changed.
class ExactBf16Copy {
 public:
  // The copy of w when w is a contiguous fp32 CPU tensor (not an inference tensor) whose values are
  // all bf16 values; nullptr otherwise. w is compared by its data, size and version counter (which
  // every in-place write bumps: loading, merging an adapter, an optimizer step), so a changed weight
  // is looked at again, never read stale.
  const torch::Tensor* of(const torch::Tensor& w);

 private:
  torch::Tensor copy_;
  const void* data_ = nullptr;
  int64_t numel_ = -1;
  uint32_t version_ = 0;
  bool exact_ = false;
};

}  // namespace psy

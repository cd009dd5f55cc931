#include "libpsy/nn/exact_bf16.h"

#include <cstring>

#include <c10/util/BFloat16.h>

namespace psy {

bool holds_only_bf16_values(const torch::Tensor& t) {
  if (t.scalar_type() != torch::kFloat32 || !t.device().is_cpu()) return false;
  const torch::Tensor c = t.contiguous();
  const float* p = c.data_ptr<float>();
  const int64_t n = c.numel();
  uint32_t low = 0;
  for (int64_t i = 0; i < n; ++i) {
    uint32_t bits;
    std::memcpy(&bits, p + i, sizeof bits);
    low |= bits & 0xFFFFu;
  }
  return low == 0;
}

const torch::Tensor* ExactBf16Copy::of(const torch::Tensor& w) {
  if (!w.defined() || w.scalar_type() != torch::kFloat32 || !w.device().is_cpu() || !w.is_contiguous() ||
      w.is_inference())
    return nullptr;
  const void* data = w.data_ptr();
  const auto version = static_cast<uint32_t>(w._version());
  if (data != data_ || w.numel() != numel_ || version != version_) {
    data_ = data;
    numel_ = w.numel();
    version_ = version;
    exact_ = holds_only_bf16_values(w);
    // Exact, so the conversion's rounding never acts: the copy holds each value's high 16 bits.
    copy_ = exact_ ? w.to(torch::kBFloat16) : torch::Tensor();
  }
  return exact_ ? &copy_ : nullptr;
}

}  // namespace psy

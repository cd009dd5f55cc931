#include "libpsy/nn/rms_norm.h"

namespace psy {

RMSNormImpl::RMSNormImpl(int64_t hidden, double eps_, const torch::TensorOptions& options) : eps(eps_) {
  weight = register_parameter("weight", torch::ones({hidden}, options), /*requires_grad=*/false);
}

torch::Tensor RMSNormImpl::forward(const torch::Tensor& x) {
  torch::Tensor h = x.to(torch::kFloat32);
  h = h * torch::rsqrt(h.pow(2).mean(-1, /*keepdim=*/true) + eps);
  return (h * weight.to(torch::kFloat32)).to(x.scalar_type());
}

TokenEmbeddingImpl::TokenEmbeddingImpl(int64_t vocab, int64_t hidden, const torch::TensorOptions& options) {
  weight = register_parameter("weight", torch::empty({vocab, hidden}, options), /*requires_grad=*/false);
}

torch::Tensor TokenEmbeddingImpl::forward(const torch::Tensor& ids) { return torch::embedding(weight, ids); }

}  // namespace psy

// RMSNorm computed in fp32: y = x * rsqrt(mean(x^2) + eps) * weight, cast back to x's dtype.
// Parameter: weight [hidden] (frozen). With autograd on, one custom Function that keeps only x,
// weight and the per-row rsqrt for backward (the same output as the composition).
#pragma once
#include <torch/torch.h>

namespace psy {

class RMSNormImpl : public torch::nn::Module {
 public:
  RMSNormImpl(int64_t hidden, double eps, const torch::TensorOptions& options);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor weight;
  double eps;
};
TORCH_MODULE(RMSNorm);

// Token embedding table with HF's parameter name `weight` [vocab, hidden] (frozen).
class TokenEmbeddingImpl : public torch::nn::Module {
 public:
  TokenEmbeddingImpl(int64_t vocab, int64_t hidden, const torch::TensorOptions& options);
  torch::Tensor forward(const torch::Tensor& ids);
  torch::Tensor weight;
};
TORCH_MODULE(TokenEmbedding);

}  // namespace psy

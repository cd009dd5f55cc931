// Projection: every Linear of the decoder (q, k, v, o, gate, up, down or GLM's fused gate_up,
// lm_head), with an optional LoRA adapter. Parameter names follow Hugging Face / PEFT:
//   weight  [out, in]  the frozen base weight (any dtype; requires_grad = false)
//   bias    [out]      only where the family has one (Qwen2's q/k/v, GLM's attention_bias, ...)
//   lora_A  [r, in]    fp32, trainable       (PEFT key: <module path>.lora_A.weight)
//   lora_B  [out, r]   fp32, trainable       (PEFT key: <module path>.lora_B.weight)
// forward(x) = x W^T (+ bias) + scaling * (dropout(x) A^T) B^T, the LoRA branch (lora_branch.h)
// computed in fp32 on the CPU, in x's dtype on CUDA, and cast back to x's dtype;
// scaling = alpha / r (alpha / sqrt(r) with rsLoRA). Dropout applies only in training mode
// (module->train()).
// A quantised base weight (NF4, nf4.h) lives behind the same forward(): base_forward() is the
// one place that reads the base weight.
#pragma once
#include <cstdint>
#include <memory>

#include <torch/torch.h>

#include "libpsy/nn/exact_bf16.h"

namespace psy {

struct Nf4Weight;  // nf4.h

class ProjectionImpl : public torch::nn::Module {
 public:
  // An uninitialised (torch::empty) weight [out_features, in_features] (and bias [out_features]
  // when `bias`); load or fill them.
  ProjectionImpl(int64_t in_features, int64_t out_features, const torch::TensorOptions& options, bool bias = false);
  // Wraps an existing weight (e.g. the tied embedding) without copying.
  explicit ProjectionImpl(const torch::Tensor& weight);

  torch::Tensor forward(const torch::Tensor& x);
  // x W^T + bias, ignoring LoRA.
  torch::Tensor base_forward(const torch::Tensor& x);
  // forward's second half: y (= base_forward(x)) plus the adapter's branch, in place where the
  // dtypes allow (then y itself is returned); y unchanged without an adapter.
  torch::Tensor add_lora_branch(const torch::Tensor& x, torch::Tensor y);

  // Adds a fresh adapter with PEFT's default init: A ~ kaiming_uniform(a = sqrt(5)) (i.e.
  // U(-1/sqrt(in), 1/sqrt(in))) drawn from torch's default generator (seed it with
  // torch::manual_seed), B = 0. Replaces an existing adapter. On the weight's device.
  void add_lora(int64_t r, double alpha, double dropout = 0.0, bool rslora = false);
  // Installs given adapter tensors (copied to fp32 on the weight's device), e.g. from a PEFT file.
  // scaling = alpha / r, or alpha / sqrt(r) with rslora.
  void set_lora(const torch::Tensor& A, const torch::Tensor& B, double alpha, double dropout = 0.0,
                bool rslora = false);
  bool has_lora() const { return lora_A.defined(); }
  // W += scaling * B A (in fp32, cast to W's dtype); then drops the adapter. Refused for NF4.
  void merge_lora();
  void remove_lora();

  // The weight as bf16 when that loses nothing (an fp32 CPU weight holding only bf16 values; made on
  // first use and again after the weight changes), else nullptr: decoding reads it instead of the
  // weight, for the same sums (exact_bf16.h).
  const torch::Tensor* exact_bf16_weight() { return exact_bf16_.of(weight); }

  int64_t in_features() const { return weight.size(1); }
  int64_t out_features() const { return weight.size(0); }
  int64_t lora_rank() const { return has_lora() ? lora_A.size(0) : 0; }

  torch::Tensor weight;
  torch::Tensor bias;    // undefined without one (frozen like the weight; stays unquantised under NF4)
  torch::Tensor lora_A;  // undefined without an adapter
  torch::Tensor lora_B;
  double lora_scaling = 0.0;
  double lora_alpha = 0.0;
  double lora_dropout = 0.0;
  bool lora_rslora = false;
  // Set by quantize_nf4() (nf4.h): base_forward() then dequantises it on the fly and `weight`
  // is a one-element tensor expanded to [out, in] (shape, dtype and device kept).
  std::shared_ptr<const Nf4Weight> nf4;

 private:
  ExactBf16Copy exact_bf16_;
};
TORCH_MODULE(Projection);

}  // namespace psy

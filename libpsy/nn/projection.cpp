#include "libpsy/nn/projection.h"

#include <cmath>

#include "libpsy/core/error.h"
#include "libpsy/nn/few_rows_matmul.h"
#include "libpsy/nn/lora_branch.h"
#include "libpsy/nn/nf4.h"

namespace psy {

ProjectionImpl::ProjectionImpl(int64_t in_features, int64_t out_features, const torch::TensorOptions& options,
                               bool with_bias) {
  weight = register_parameter("weight", torch::empty({out_features, in_features}, options), /*requires_grad=*/false);
  if (with_bias) bias = register_parameter("bias", torch::empty({out_features}, options), /*requires_grad=*/false);
}

ProjectionImpl::ProjectionImpl(const torch::Tensor& w) {
  weight = register_parameter("weight", w, /*requires_grad=*/false);
}

torch::Tensor ProjectionImpl::base_forward(const torch::Tensor& x) {
  if (nf4) {
    torch::Tensor y = nf4_linear(x, *nf4);
    return bias.defined() ? y + bias.to(y.scalar_type()) : y;
  }
  // Up to 128 rows on the CPU without autograd (decoding: one row per sequence; a prompt's prefill
  // after its reused prefix): a kernel that reads the weights once, where OpenBLAS's matrix product
  // first copies (packs) the whole weight matrix (27% of batch-1 decode time in perf) and LibTorch
  // 1.13's bf16 product is not memory-bound at all (bench/README.md, bench_eval_generate).
  // A decode step's rows are bound by memory: they read the weight's bf16 copy where it is exact.
  if (few_rows_matmul_applies(x, weight, bias)) {
    const torch::Tensor* narrow = x.numel() <= kFewRowsMatmulDecodeRows * x.size(-1) ? exact_bf16_weight() : nullptr;
    return few_rows_matmul(x, narrow != nullptr ? *narrow : weight, bias);
  }
  return torch::nn::functional::linear(x, weight, bias);
}

torch::Tensor ProjectionImpl::forward(const torch::Tensor& x) { return add_lora_branch(x, base_forward(x)); }

torch::Tensor ProjectionImpl::add_lora_branch(const torch::Tensor& x, torch::Tensor y) {
  if (!has_lora()) return y;
  // The adapter's product, with its dropout in training (lora_branch.h: the dtype it runs in, and
  // the CPU's dropout that keeps no mask).
  torch::Tensor delta = lora_branch(x, lora_A, lora_B, lora_dropout, is_training());
  // Added into the base product's fresh result where the dtypes agree: a new sum would be allocated
  // after delta's temporaries, leaving a hole in the heap under the tensors kept for backward (a
  // training step's peak RSS, bench/README.md "Issue 20 on CPU").
  if (delta.scalar_type() == y.scalar_type()) return y.add_(delta, lora_scaling);
  return y + (delta * lora_scaling).to(y.scalar_type());
}

void ProjectionImpl::remove_lora() {
  if (parameters_.contains("lora_A")) parameters_.erase("lora_A");
  if (parameters_.contains("lora_B")) parameters_.erase("lora_B");
  lora_A = torch::Tensor();
  lora_B = torch::Tensor();
  lora_scaling = 0.0;
  lora_alpha = 0.0;
  lora_dropout = 0.0;
  lora_rslora = false;
}

void ProjectionImpl::set_lora(const torch::Tensor& A, const torch::Tensor& B, double alpha, double dropout,
                              bool rslora) {
  if (A.dim() != 2 || B.dim() != 2 || A.size(1) != in_features() || B.size(0) != out_features() ||
      A.size(0) != B.size(1)) {
    throw Error("LoRA shapes do not fit a projection of [" + std::to_string(out_features()) + ", " +
                std::to_string(in_features()) + "]: " +
                expected_found("lora_A [r, " + std::to_string(in_features()) + "] and lora_B [" +
                                   std::to_string(out_features()) + ", r]",
                               "lora_A " + c10::str(A.sizes()) + ", lora_B " + c10::str(B.sizes())));
  }
  remove_lora();
  auto opts = torch::TensorOptions().dtype(torch::kFloat32).device(weight.device());
  lora_A = register_parameter("lora_A", A.detach().to(opts, /*non_blocking=*/false, /*copy=*/true));
  lora_B = register_parameter("lora_B", B.detach().to(opts, /*non_blocking=*/false, /*copy=*/true));
  const auto r = static_cast<double>(A.size(0));
  lora_alpha = alpha;
  lora_rslora = rslora;
  lora_scaling = rslora ? alpha / std::sqrt(r) : alpha / r;
  lora_dropout = dropout;
}

void ProjectionImpl::add_lora(int64_t r, double alpha, double dropout, bool rslora) {
  if (r <= 0) throw Error("LoRA rank must be positive, found " + std::to_string(r));
  if (dropout < 0.0 || dropout >= 1.0) throw Error("LoRA dropout must be in [0, 1), found " + std::to_string(dropout));
  auto opts = torch::TensorOptions().dtype(torch::kFloat32).device(weight.device());
  torch::Tensor A = torch::empty({r, in_features()}, opts);
  {
    torch::NoGradGuard no_grad;
    torch::nn::init::kaiming_uniform_(A, std::sqrt(5.0));
  }
  torch::Tensor B = torch::zeros({out_features(), r}, opts);
  set_lora(A, B, alpha, dropout, rslora);
}

void ProjectionImpl::merge_lora() {
  if (!has_lora()) return;
  if (nf4) throw Error("merge_lora: the base weight is NF4-quantised; merge the adapter into an unquantised model");
  {
    torch::NoGradGuard no_grad;
    torch::Tensor delta = torch::matmul(lora_B.detach(), lora_A.detach()) * lora_scaling;
    weight.copy_((weight.to(torch::kFloat32) + delta).to(weight.scalar_type()));
  }
  remove_lora();
}

}  // namespace psy

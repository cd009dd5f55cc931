#include "libpsy/nn/rms_norm.h"

#include <torch/csrc/autograd/custom_function.h>

#include "libpsy/nn/decode_elementwise.h"

namespace psy {

namespace {

// x * rstd * weight in fp32, rstd = rsqrt(mean(x^2) + eps) per row (returned through `rstd`), cast
// back to x's dtype. The result's buffer comes before the temporaries (x^2): a temporary freed below
// a tensor that backward keeps leaves a hole in the heap that later allocations rarely fit (peak RSS).
torch::Tensor rms_normalize(const torch::Tensor& x, const torch::Tensor& weight, double eps, torch::Tensor& rstd) {
  torch::Tensor h = x.to(torch::kFloat32);
  torch::Tensor y = torch::empty_like(h, torch::MemoryFormat::Contiguous);
  rstd = torch::rsqrt(h.pow(2).mean(-1, /*keepdim=*/true) + eps);
  torch::mul_out(y, h, rstd).mul_(weight.to(torch::kFloat32));
  return y.to(x.scalar_type());
}

// y = x * rstd * weight with rstd = rsqrt(mean(x^2) + eps), in fp32, saving only x, weight and
// rstd (one value per row) for backward; the plain composition also keeps the normalised x,
// a second [tokens x hidden] copy per norm until backward.
//   dx = rstd * (g w - x_hat * mean(g w x_hat)),  dweight = sum over rows of g x_hat  (x_hat = x * rstd)
struct RMSNormFunction : torch::autograd::Function<RMSNormFunction> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& weight, double eps) {
    torch::Tensor rstd;
    torch::Tensor y = rms_normalize(x, weight, eps, rstd);
    ctx->save_for_backward({x, weight, rstd});
    return y;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_out) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &x = saved[0], &weight = saved[1], &rstd = saved[2];
    torch::Tensor g = grad_out[0].to(torch::kFloat32);
    torch::Tensor x_hat = x.to(torch::kFloat32) * rstd;
    torch::Tensor dweight;
    if (ctx->needs_input_grad(1)) {
      dweight = (g * x_hat).reshape({-1, x.size(-1)}).sum(0).to(weight.scalar_type());
    }
    torch::Tensor dx;
    if (ctx->needs_input_grad(0)) {
      torch::Tensor gw = g * weight.to(torch::kFloat32);
      torch::Tensor mean = (gw * x_hat).mean(-1, /*keepdim=*/true);
      dx = gw.sub_(x_hat.mul_(mean)).mul_(rstd).to(x.scalar_type());
    }
    return {dx, dweight, torch::Tensor()};
  }
};

}  // namespace

RMSNormImpl::RMSNormImpl(int64_t hidden, double eps_, const torch::TensorOptions& options) : eps(eps_) {
  weight = register_parameter("weight", torch::ones({hidden}, options), /*requires_grad=*/false);
}

torch::Tensor RMSNormImpl::forward(const torch::Tensor& x) {
  if (torch::GradMode::is_enabled() && (x.requires_grad() || weight.requires_grad()))
    return RMSNormFunction::apply(x, weight, eps);
  if (decode_elementwise_applies(x)) return rms_norm_rows(x, weight, eps);
  torch::Tensor rstd;
  return rms_normalize(x, weight, eps, rstd);
}

TokenEmbeddingImpl::TokenEmbeddingImpl(int64_t vocab, int64_t hidden, const torch::TensorOptions& options) {
  weight = register_parameter("weight", torch::empty({vocab, hidden}, options), /*requires_grad=*/false);
}

torch::Tensor TokenEmbeddingImpl::forward(const torch::Tensor& ids) { return torch::embedding(weight, ids); }

}  // namespace psy

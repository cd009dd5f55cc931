#include "libpsy/nn/lora_branch.h"

#include <mutex>

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include "libpsy/nn/hashed_dropout.h"

namespace psy {

namespace {

// dst = dropout(src) over n contiguous fp32 elements (the same array is fine), every thread on its
// own span; element i of the span gets the mask of index i.
void apply_in_parallel(const HashedDropout& d, const float* src, float* dst, int64_t n) {
  at::parallel_for(0, n, 1 << 15, [&](int64_t begin, int64_t end) {
    apply_hashed_dropout(d, src + begin, dst + begin, end - begin, static_cast<uint64_t>(begin));
  });
}

// dropout(x) as fp32 [tokens, in].
torch::Tensor dropped_rows(const torch::Tensor& x_rows, const HashedDropout& d) {
  torch::Tensor x32 = x_rows.to(torch::kFloat32).contiguous();
  torch::Tensor out = torch::empty_like(x32);
  apply_in_parallel(d, x32.data_ptr<float>(), out.data_ptr<float>(), x32.numel());
  return out;
}

struct LoraDropoutBranch : torch::autograd::Function<LoraDropoutBranch> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& A,
                               const torch::Tensor& B, double p) {
    const uint64_t seed = draw_dropout_seed();
    const HashedDropout d = make_hashed_dropout(seed, p);
    torch::Tensor u = torch::mm(dropped_rows(x.reshape({-1, x.size(-1)}), d), A.t());  // [T, r]
    torch::Tensor delta = torch::mm(u, B.t());
    ctx->save_for_backward({x, A, B, u});
    ctx->saved_data["seed"] = static_cast<int64_t>(seed);
    ctx->saved_data["p"] = p;
    std::vector<int64_t> out_shape = x.sizes().vec();
    out_shape.back() = B.size(0);
    return delta.view(out_shape);
  }

  // With u = dropout(x) A^T and delta = u B^T:
  //   dB = g^T u;   du = g B;   dA = du^T dropout(x);   dx = dropout(du A), the same mask.
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_out) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &x = saved[0], &A = saved[1], &B = saved[2], &u = saved[3];
    const HashedDropout d = make_hashed_dropout(static_cast<uint64_t>(ctx->saved_data["seed"].toInt()),
                                                ctx->saved_data["p"].toDouble());
    torch::Tensor g = grad_out[0].reshape({-1, B.size(0)}).to(torch::kFloat32);
    torch::Tensor dB = torch::mm(g.t(), u);
    torch::Tensor du = torch::mm(g, B);
    torch::Tensor x_rows = x.reshape({-1, x.size(-1)});
    torch::Tensor dA = torch::mm(du.t(), dropped_rows(x_rows, d));
    torch::Tensor dx;
    if (ctx->needs_input_grad(0)) {
      torch::Tensor dh = torch::mm(du, A);
      apply_in_parallel(d, dh.data_ptr<float>(), dh.data_ptr<float>(), dh.numel());
      dx = dh.view(x.sizes()).to(x.scalar_type());
    }
    return {dx, dA, dB, torch::Tensor()};
  }
};

// On a GPU with a bf16/fp16 base the product runs in the activations' dtype, as PEFT's under autocast
// does: fp32 matmuls run far below the tensor cores' bf16 rate (bench/README.md, bench_train on a
// GPU); gradients still reach the fp32 weights through the cast. On the CPU it stays fp32.
torch::Tensor composition(const torch::Tensor& x, const torch::Tensor& A, const torch::Tensor& B, double p,
                          bool training) {
  const torch::ScalarType compute = x.is_cuda() ? x.scalar_type() : A.scalar_type();
  torch::Tensor h = x.to(compute);
  if (p > 0.0 && training) h = torch::dropout(h, p, /*train=*/true);
  return torch::nn::functional::linear(torch::nn::functional::linear(h, A.to(compute)), B.to(compute));
}

}  // namespace

uint64_t draw_dropout_seed() {
  at::Generator gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return gen.get<at::CPUGeneratorImpl>()->random64();
}

torch::Tensor lora_branch(const torch::Tensor& x, const torch::Tensor& A, const torch::Tensor& B, double p,
                          bool training) {
  const bool hashed = training && p > 0.0 && !x.is_cuda() && A.scalar_type() == torch::kFloat32 &&
                      B.scalar_type() == torch::kFloat32;
  if (!hashed) return composition(x, A, B, p, training);
  return LoraDropoutBranch::apply(x, A, B, p);
}

}  // namespace psy

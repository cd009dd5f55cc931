#include "libpsy/train/chunked_head_loss.h"

#include <algorithm>
#include <vector>

#include <torch/csrc/autograd/custom_function.h>

#include "libpsy/core/error.h"

namespace psy {

namespace {

struct HeadLossState : torch::CustomClassHolder {
  std::vector<torch::Tensor> params;       // lm_head's trainable parameters
  std::vector<torch::Tensor> param_grads;  // d(sum)/d(param), for an incoming gradient of 1
  torch::Tensor hidden_grad;               // d(sum)/d(hidden) [N, H], undefined when not needed
};

struct ChunkResult {
  torch::Tensor sum;     // fp32 scalar, detached
  torch::Tensor logits;  // with its graph (when gradients are wanted)
  torch::Tensor grad;    // d sum / d logits, logits' dtype (when wanted)
};

// One chunk: logits = head(h), sum_i w_i CE_i, and optionally its gradient w.r.t. the logits.
ChunkResult chunk_loss(ProjectionImpl& head, const torch::Tensor& h, const torch::Tensor& target,
                       const torch::Tensor& w, bool want_grad) {
  ChunkResult r;
  r.logits = head.forward(h);
  torch::Tensor x = r.logits.detach().to(torch::kFloat32);
  torch::Tensor peak = std::get<0>(x.max(1, /*keepdim=*/true));
  torch::Tensor e = (x - peak).exp_();
  torch::Tensor sum_exp = e.sum({1}, /*keepdim=*/false, torch::kFloat64);
  torch::Tensor lse = sum_exp.log() + peak.squeeze(1).to(torch::kFloat64);
  torch::Tensor ce = (lse - x.gather(1, target.unsqueeze(1)).squeeze(1).to(torch::kFloat64)).to(torch::kFloat32);
  r.sum = (w * ce).sum();
  if (want_grad) {
    // d/dx_j of w (logsumexp(x) - x_t) = w (softmax_j - [j == t])
    e.mul_((w.to(torch::kFloat64) / sum_exp).to(torch::kFloat32).unsqueeze(1));
    e.scatter_add_(1, target.unsqueeze(1), -w.unsqueeze(1));
    r.grad = e.to(r.logits.scalar_type());
  }
  return r;
}

struct ChunkedHeadLoss : torch::autograd::Function<ChunkedHeadLoss> {
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx, torch::Tensor hidden,
                                                torch::Tensor /*anchor*/, torch::Tensor target, torch::Tensor w,
                                                Projection head, int64_t chunk,
                                                c10::intrusive_ptr<HeadLossState> state) {
    const bool need_hidden = hidden.requires_grad();
    const int64_t n = hidden.size(0);
    torch::Tensor total = torch::zeros({}, hidden.options().dtype(torch::kFloat64));
    std::vector<torch::Tensor> hidden_grads;
    state->param_grads.assign(state->params.size(), torch::Tensor());
    for (int64_t c = 0; c < n; c += chunk) {
      const int64_t len = std::min(chunk, n - c);
      torch::Tensor h = hidden.narrow(0, c, len).detach().requires_grad_(need_hidden);
      ChunkResult r;
      {
        torch::AutoGradMode enable(true);
        r = chunk_loss(*head, h, target.narrow(0, c, len), w.narrow(0, c, len), true);
        std::vector<torch::Tensor> inputs;
        if (need_hidden) inputs.push_back(h);
        for (const auto& p : state->params) inputs.push_back(p);
        if (!inputs.empty() && r.logits.requires_grad()) {
          auto grads = torch::autograd::grad({r.logits}, inputs, {r.grad}, /*retain_graph=*/false,
                                             /*create_graph=*/false, /*allow_unused=*/true);
          size_t k = 0;
          if (need_hidden) {
            hidden_grads.push_back(grads[0].defined() ? grads[0] : torch::zeros_like(h));
            k = 1;
          }
          for (size_t i = 0; i < state->params.size(); ++i, ++k) {
            if (!grads[k].defined()) continue;
            auto& g = state->param_grads[i];
            g = g.defined() ? g.add_(grads[k]) : grads[k];
          }
        } else if (need_hidden) {
          hidden_grads.push_back(torch::zeros_like(h));
        }
      }
      total += r.sum.to(torch::kFloat64);
    }
    if (need_hidden) state->hidden_grad = hidden_grads.size() == 1 ? hidden_grads[0] : torch::cat(hidden_grads, 0);
    ctx->saved_data["state"] = c10::IValue::make_capsule(state);
    return {total.to(torch::kFloat32)};
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_out) {
    auto state = c10::static_intrusive_pointer_cast<HeadLossState>(ctx->saved_data["state"].toCapsule());
    const torch::Tensor& g = grad_out[0];
    for (size_t i = 0; i < state->params.size(); ++i) {
      if (!state->param_grads[i].defined()) continue;
      torch::Tensor add = state->param_grads[i] * g.to(state->param_grads[i].scalar_type());
      torch::Tensor p = state->params[i];
      if (p.grad().defined()) p.mutable_grad().add_(add);
      else p.mutable_grad() = add;
    }
    torch::Tensor dh;
    if (state->hidden_grad.defined()) dh = state->hidden_grad * g.to(state->hidden_grad.scalar_type());
    state->param_grads.clear();
    state->hidden_grad = torch::Tensor();
    return {dh, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

int64_t auto_chunk_tokens(int64_t vocab_size) {
  return std::clamp<int64_t>((int64_t{1} << 24) / std::max<int64_t>(1, vocab_size), 64, 4096);
}

torch::Tensor chunked_head_weighted_ce_sum(const Projection& head, const torch::Tensor& hidden,
                                           const torch::Tensor& input_ids, const torch::Tensor& label_weights,
                                           int64_t chunk_tokens) {
  if (hidden.dim() != 3 || input_ids.dim() != 2 || label_weights.dim() != 2 ||
      hidden.size(0) != input_ids.size(0) || hidden.size(1) != input_ids.size(1) ||
      label_weights.sizes() != input_ids.sizes())
    throw Error("chunked loss: " + expected_found("hidden [B,T,H], ids and weights [B,T]",
                                                  "hidden " + c10::str(hidden.sizes()) + ", ids " +
                                                      c10::str(input_ids.sizes()) + ", weights " +
                                                      c10::str(label_weights.sizes())));
  const int64_t B = hidden.size(0), T = hidden.size(1), H = hidden.size(2), V = head->out_features();
  const torch::Device dev = head->weight.device();
  if (T < 2) return (hidden.sum() * 0.0).to(torch::kFloat32);
  torch::Tensor w = label_weights.slice(1, 1).reshape({B * (T - 1)}).to(dev, torch::kFloat32);
  torch::Tensor idx = w.ne(0).nonzero().squeeze(1);
  if (idx.numel() == 0) return (hidden.sum() * 0.0).to(torch::kFloat32);
  // Targets of non-zero weight only: prompt tokens under completion-only loss never reach lm_head.
  torch::Tensor h = hidden.slice(1, 0, T - 1).reshape({B * (T - 1), H}).to(dev).index_select(0, idx);
  torch::Tensor target =
      input_ids.slice(1, 1).reshape({B * (T - 1)}).to(dev, torch::kLong).index_select(0, idx).clamp(0, V - 1);
  w = w.index_select(0, idx);
  const int64_t chunk = chunk_tokens > 0 ? chunk_tokens : auto_chunk_tokens(V);
  Projection lm_head = head;  // a handle: forward() is not const
  if (!torch::GradMode::is_enabled()) {
    torch::Tensor total = torch::zeros({}, h.options().dtype(torch::kFloat64));
    for (int64_t c = 0; c < h.size(0); c += chunk) {
      const int64_t len = std::min(chunk, h.size(0) - c);
      total += chunk_loss(*lm_head, h.narrow(0, c, len), target.narrow(0, c, len), w.narrow(0, c, len), false)
                   .sum.to(torch::kFloat64);
    }
    return total.to(torch::kFloat32).to(hidden.device());
  }
  auto state = c10::make_intrusive<HeadLossState>();
  for (const auto& p : head->parameters())
    if (p.requires_grad()) state->params.push_back(p);
  // Keeps the node in the graph when only lm_head trains (hidden then needs no gradient).
  torch::Tensor anchor = torch::zeros({0}, h.options().dtype(torch::kFloat32)).requires_grad_(true);
  return ChunkedHeadLoss::apply(h, anchor, target, w, lm_head, chunk, state)[0].to(hidden.device());
}

}  // namespace psy

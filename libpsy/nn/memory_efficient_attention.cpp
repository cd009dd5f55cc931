#include "libpsy/nn/memory_efficient_attention.h"

#include <cmath>
#include <limits>
#include <string>

#include <torch/csrc/autograd/custom_function.h>

#include "libpsy/core/error.h"

namespace psy {

namespace {

// The sizes every block shares.
struct Shape {
  int64_t batch = 0, heads = 0, kv_heads = 0, tokens = 0, head_dim = 0;
  int64_t group() const { return heads / kv_heads; }
  double scale() const { return 1.0 / std::sqrt(static_cast<double>(head_dim)); }
};

Shape shape_of(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v) {
  if (q.dim() != 4 || k.dim() != 4 || v.dim() != 4)
    throw Error("memory-efficient attention: " + expected_found("q [B, H, T, D] and k, v [B, KV, T, D]",
                                                                "q " + c10::str(q.sizes()) + ", k " +
                                                                    c10::str(k.sizes()) + ", v " + c10::str(v.sizes())));
  Shape s{q.size(0), q.size(1), k.size(1), q.size(2), q.size(3)};
  if (k.sizes() != v.sizes() || k.size(0) != s.batch || k.size(2) != s.tokens || k.size(3) != s.head_dim ||
      s.kv_heads == 0 || s.heads % s.kv_heads != 0)
    throw Error("memory-efficient attention: " +
                expected_found("k, v [B, KV, T, D] with the queries' B, T, D and H a multiple of KV (no cache)",
                               "q " + c10::str(q.sizes()) + ", k " + c10::str(k.sizes()) + ", v " +
                                   c10::str(v.sizes())));
  return s;
}

// The scores [H, L, L] (fp32) of one block: (q k^T) * scale as the plain kernel computes them,
// then its mask (additive), or the causal rule and the window (-inf).
// qb [KV, g*L, D] (grouped query heads), kb [KV, L, D].
torch::Tensor block_scores(const torch::Tensor& qb, const torch::Tensor& kb, const Shape& s, int64_t len,
                           int64_t window, const torch::Tensor& mask_block) {
  torch::Tensor scores = torch::bmm(qb, kb.transpose(1, 2)).to(torch::kFloat32) * s.scale();
  scores = scores.view({s.heads, len, len});
  if (mask_block.defined()) {
    scores.add_(mask_block);
  } else if (len > 1) {
    auto bopts = torch::TensorOptions().dtype(torch::kBool).device(qb.device());
    torch::Tensor hidden = torch::ones({len, len}, bopts).triu(1);  // future keys
    if (window > 0 && len > window) hidden = hidden | torch::ones({len, len}, bopts).tril(-window);
    scores.masked_fill_(hidden, -std::numeric_limits<float>::infinity());
  }
  return scores;
}

// The [start, start + length) square of the mask for batch row `row` ([1, L, L]); undefined without one.
torch::Tensor mask_of_block(const torch::Tensor& mask, const AttentionSegment& b) {
  if (!mask.defined()) return {};
  return mask.select(0, mask.size(0) == 1 ? 0 : b.row).narrow(1, b.start, b.length).narrow(2, b.start, b.length);
}

std::vector<AttentionSegment> unflatten(const std::vector<int64_t>& flat) {
  std::vector<AttentionSegment> out;
  for (size_t i = 0; i + 2 < flat.size(); i += 3) out.push_back(AttentionSegment{flat[i], flat[i + 1], flat[i + 2]});
  return out;
}

struct MemoryEfficientAttention : torch::autograd::Function<MemoryEfficientAttention> {
  // Returns out [B, T, H, D].
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& q, const torch::Tensor& k,
                               const torch::Tensor& v, std::vector<int64_t> flat_blocks, int64_t window,
                               const c10::optional<torch::Tensor>& maybe_mask) {
    const torch::Tensor mask = maybe_mask.has_value() ? *maybe_mask : torch::Tensor();
    const Shape s = shape_of(q, k, v);
    const int64_t g = s.group();
    torch::Tensor out = torch::zeros({s.batch, s.tokens, s.heads, s.head_dim}, q.options());
    torch::Tensor lse =
        torch::zeros({s.batch, s.heads, s.tokens}, q.options().dtype(torch::kFloat32));  // per query row
    for (const AttentionSegment& b : unflatten(flat_blocks)) {
      const int64_t len = b.length;
      torch::Tensor qb = q[b.row].narrow(1, b.start, len).reshape({s.kv_heads, g * len, s.head_dim});
      torch::Tensor kb = k[b.row].narrow(1, b.start, len);
      torch::Tensor vb = v[b.row].narrow(1, b.start, len);
      torch::Tensor p = block_scores(qb, kb, s, len, window, mask_of_block(mask, b));
      // softmax as exp(S - max) / sum, keeping log(sum) + max for backward
      torch::Tensor row_max = p.amax(-1, /*keepdim=*/true);
      p.sub_(row_max).exp_();
      torch::Tensor sum = p.sum(-1, /*keepdim=*/true);
      p.div_(sum);
      lse[b.row].narrow(1, b.start, len).copy_((row_max + sum.log()).squeeze(-1));
      torch::Tensor o = torch::bmm(p.to(v.scalar_type()).view({s.kv_heads, g * len, len}), vb);
      out[b.row].narrow(0, b.start, len).copy_(o.view({s.heads, len, s.head_dim}).transpose(0, 1));
    }
    ctx->saved_data["blocks"] = flat_blocks;
    ctx->saved_data["window"] = window;
    if (mask.defined()) ctx->saved_data["mask"] = mask;
    ctx->save_for_backward({q, k, v, out, lse});
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_out) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &q = saved[0], &k = saved[1], &v = saved[2], &out = saved[3], &lse = saved[4];
    const Shape s = shape_of(q, k, v);
    const int64_t g = s.group();
    const int64_t window = ctx->saved_data["window"].toInt();
    torch::Tensor mask;
    if (ctx->saved_data.count("mask")) mask = ctx->saved_data["mask"].toTensor();
    torch::Tensor go = grad_out[0];  // [B, T, H, D]
    // Gradients laid out as the projections made q, k, v ([B, T, heads, D] memory).
    torch::Tensor dq = torch::zeros({s.batch, s.tokens, s.heads, s.head_dim}, q.options()).transpose(1, 2);
    torch::Tensor dk = torch::zeros({s.batch, s.tokens, s.kv_heads, s.head_dim}, k.options()).transpose(1, 2);
    torch::Tensor dv = torch::zeros({s.batch, s.tokens, s.kv_heads, s.head_dim}, v.options()).transpose(1, 2);
    for (const AttentionSegment& b : unflatten(ctx->saved_data["blocks"].toIntVector())) {
      const int64_t len = b.length;
      torch::Tensor qb = q[b.row].narrow(1, b.start, len).reshape({s.kv_heads, g * len, s.head_dim});
      torch::Tensor kb = k[b.row].narrow(1, b.start, len);
      torch::Tensor vb = v[b.row].narrow(1, b.start, len);
      auto grouped = [&](const torch::Tensor& x) {  // [T, H, D] rows of this block -> [KV, g*L, D]
        return x.narrow(0, b.start, len).transpose(0, 1).reshape({s.kv_heads, g * len, s.head_dim});
      };
      torch::Tensor gob = grouped(go[b.row]);
      torch::Tensor ob = grouped(out[b.row]);
      torch::Tensor p = block_scores(qb, kb, s, len, window, mask_of_block(mask, b));
      p.sub_(lse[b.row].narrow(1, b.start, len).unsqueeze(-1)).exp_();
      p = p.view({s.kv_heads, g * len, len});
      dv[b.row].narrow(1, b.start, len).copy_(torch::bmm(p.to(v.scalar_type()).transpose(1, 2), gob));
      torch::Tensor ds = torch::bmm(gob, vb.transpose(1, 2)).to(torch::kFloat32);  // dP
      torch::Tensor delta = (gob.to(torch::kFloat32) * ob.to(torch::kFloat32)).sum(-1, /*keepdim=*/true);
      ds.sub_(delta).mul_(p).mul_(s.scale());
      torch::Tensor dsd = ds.to(q.scalar_type());
      dq[b.row].narrow(1, b.start, len).copy_(torch::bmm(dsd, kb).view({s.heads, len, s.head_dim}));
      dk[b.row].narrow(1, b.start, len).copy_(torch::bmm(dsd.transpose(1, 2), qb));
    }
    return {dq, dk, dv, torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor memory_efficient_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                         const std::vector<AttentionSegment>& blocks, int64_t window,
                                         const torch::Tensor& mask) {
  const Shape s = shape_of(q, k, v);
  std::vector<int64_t> flat;
  flat.reserve(blocks.size() * 3);
  std::vector<int64_t> filled(static_cast<size_t>(s.batch), 0);
  for (const AttentionSegment& b : blocks) {
    if (b.row < 0 || b.row >= s.batch || b.length <= 0 || b.start < filled[static_cast<size_t>(b.row)] ||
        b.start + b.length > s.tokens)
      throw Error("memory-efficient attention: block (row " + std::to_string(b.row) + ", start " +
                  std::to_string(b.start) + ", length " + std::to_string(b.length) + ") " +
                  expected_found("ordered, disjoint, non-empty blocks inside [" + std::to_string(s.batch) + ", " +
                                     std::to_string(s.tokens) + "]",
                                 "one outside or overlapping"));
    filled[static_cast<size_t>(b.row)] = b.start + b.length;
    flat.insert(flat.end(), {b.row, b.start, b.length});
  }
  if (mask.defined() && (mask.dim() != 4 || (mask.size(0) != 1 && mask.size(0) != s.batch) || mask.size(1) != 1 ||
                         mask.size(2) != s.tokens || mask.size(3) != s.tokens))
    throw Error("memory-efficient attention: mask " +
                expected_found("[B or 1, 1, T, T] for T = " + std::to_string(s.tokens), c10::str(mask.sizes())));
  return MemoryEfficientAttention::apply(q, k, v, std::move(flat), window,
                                        mask.defined() ? c10::optional<torch::Tensor>(mask.to(torch::kFloat32))
                                                       : c10::optional<torch::Tensor>());
}

}  // namespace psy

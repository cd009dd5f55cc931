#include "libpsy/nn/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <torch/version.h>

#include "libpsy/core/error.h"
#include "libpsy/nn/decode_attention.h"
#include "libpsy/nn/decode_elementwise.h"
#include "libpsy/nn/memory_efficient_attention.h"

#if TORCH_VERSION_MAJOR >= 2
#define PSY_HAVE_SDPA 1
#else
#define PSY_HAVE_SDPA 0
#endif

namespace psy {

bool fused_attention_available() { return PSY_HAVE_SDPA != 0; }

torch::Tensor rope_inverse_frequencies(const DecoderConfig& config, int64_t seq_len, torch::Device device) {
  const int64_t d = config.rotary_dim();
  double base = config.rope_theta;
  if (config.rope_scaling == RopeScalingType::Dynamic && seq_len > config.max_position_embeddings) {
    const double f = config.rope_scaling_factor;
    const double ratio = f * static_cast<double>(seq_len) / static_cast<double>(config.max_position_embeddings) - (f - 1.0);
    base = base * std::pow(ratio, static_cast<double>(d) / static_cast<double>(d - 2));
  }
  auto opts = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  torch::Tensor exponents = torch::arange(0, d, 2, torch::TensorOptions().dtype(torch::kInt64).device(device))
                                .to(torch::kFloat32) / static_cast<double>(d);
  torch::Tensor inv_freq = torch::pow(torch::scalar_tensor(base, opts), exponents).reciprocal();
  if (config.rope_scaling != RopeScalingType::Llama3) return inv_freq;
  // Llama 3.1: long wavelengths slowed by `factor`, short ones kept, the band between blended
  // (transformers' _compute_llama3_parameters, in the same fp32 operations).
  const double factor = config.rope_scaling_factor;
  const double low = config.rope_low_freq_factor, high = config.rope_high_freq_factor;
  const double old_len = static_cast<double>(config.rope_original_max_position_embeddings);
  const double low_freq_wavelen = old_len / low, high_freq_wavelen = old_len / high;
  const double two_pi = 6.283185307179586;  // Python's 2 * math.pi
  torch::Tensor wavelen = inv_freq.reciprocal() * two_pi;
  torch::Tensor scaled = torch::where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq);
  torch::Tensor smooth = (wavelen.reciprocal() * old_len - low) / (high - low);
  torch::Tensor smoothed = (1 - smooth) * scaled / factor + smooth * scaled;
  torch::Tensor medium = (wavelen < high_freq_wavelen).logical_not() & (wavelen > low_freq_wavelen).logical_not();
  return torch::where(medium, smoothed, scaled);
}

namespace {

// Additive fp32 mask from a boolean "may attend" tensor.
torch::Tensor additive_mask(const torch::Tensor& allowed, torch::Device device) {
  auto fopts = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  return torch::where(allowed, torch::zeros({}, fopts), torch::full({}, std::numeric_limits<float>::lowest(), fopts));
}


// ctx.cos / ctx.sin for `positions` [B, T].
void set_rope_tables(const DecoderConfig& config, const torch::Tensor& positions, torch::Device device,
                     AttentionContext& ctx) {
  torch::Tensor pos = positions.to(device, torch::kInt64);
  // Only dynamic NTK scaling needs the longest position (a host sync on CUDA: skipped otherwise).
  const bool dynamic = config.rope_scaling == RopeScalingType::Dynamic;
  const int64_t max_pos = dynamic && pos.numel() > 0 ? pos.max().item<int64_t>() + 1 : 0;
  torch::Tensor inv_freq = rope_inverse_frequencies(config, max_pos, device);
  torch::Tensor p = pos.to(torch::kFloat32);
  if (config.rope_scaling == RopeScalingType::Linear) p = p / config.rope_scaling_factor;
  torch::Tensor angles = p.unsqueeze(-1) * inv_freq;  // [B, T, rot/2]
  // Rotate-half pairs dim i with i + rot/2 (angles repeated end to end); GLM pairs 2i with 2i + 1
  // (each angle twice in a row).
  torch::Tensor emb = (config.rope_interleaved ? angles.repeat_interleave(2, -1) : torch::cat({angles, angles}, -1))
                          .unsqueeze(1);  // [B, 1, T, rot]
  ctx.cos = emb.cos();
  ctx.sin = emb.sin();
}

}  // namespace

AttentionContext make_attention_context(const DecoderConfig& config, const torch::Tensor& positions,
                                        const torch::Tensor& attention_mask, int64_t past, torch::Device device,
                                        AttentionKernel kernel) {
  AttentionContext ctx;
  ctx.past = past;
  ctx.kernel = kernel;
  const int64_t batch = positions.size(0);
  const int64_t t = positions.size(1);
  const int64_t s = past + t;
  set_rope_tables(config, positions, device, ctx);

  if (attention_mask.defined() && (attention_mask.dim() != 2 || attention_mask.size(0) != batch ||
                                   attention_mask.size(1) != s)) {
    throw Error("attention_mask " + expected_found("shape [" + std::to_string(batch) + ", " + std::to_string(s) +
                                                       "] (cached + new positions)",
                                                   c10::str(attention_mask.sizes())));
  }
  // With a cache the mask is built anyway: no host sync to ask whether it pads.
  const bool padded = past == 0 && attention_mask.defined() && !attention_mask.to(torch::kBool).all().item<bool>();
  bool window_layers = false;
  for (int64_t i = 0; i < config.num_hidden_layers && !window_layers; ++i) window_layers = config.layer_uses_window(i);
  const bool window = window_layers && s > *config.sliding_window;
  const bool full_mask = padded || past > 0;  // otherwise pure causal, run without a mask
  if (!full_mask && !window) return ctx;
  auto iopts = torch::TensorOptions().dtype(torch::kInt64).device(device);
  torch::Tensor q_idx = (torch::arange(t, iopts) + past).view({t, 1});
  torch::Tensor k_idx = torch::arange(s, iopts).view({1, s});
  torch::Tensor allowed = (k_idx <= q_idx).view({1, 1, t, s});  // [1, 1, T, S]
  if (attention_mask.defined()) {
    allowed = allowed & attention_mask.to(device).to(torch::kBool).view({batch, 1, 1, s});
  } else {
    allowed = allowed.expand({batch, 1, t, s});
  }
  if (full_mask) ctx.mask = additive_mask(allowed, device);
  if (window) {
    torch::Tensor in_window = ((q_idx - k_idx) < *config.sliding_window).view({1, 1, t, s});
    ctx.window_mask = additive_mask(allowed & in_window, device);
  }
  return ctx;
}

std::vector<AttentionSegment> segments_from_ids(const torch::Tensor& segment_ids) {
  if (segment_ids.dim() != 2)
    throw Error("packed segment ids " + expected_found("shape [batch, tokens]", c10::str(segment_ids.sizes())));
  torch::Tensor ids = segment_ids.to(torch::kCPU, torch::kInt64).contiguous();
  auto a = ids.accessor<int64_t, 2>();
  std::vector<AttentionSegment> out;
  for (int64_t b = 0; b < ids.size(0); ++b) {
    for (int64_t t = 0; t < ids.size(1);) {
      const int64_t id = a[b][t];
      int64_t end = t + 1;
      while (end < ids.size(1) && a[b][end] == id) ++end;
      if (id != 0) out.push_back(AttentionSegment{b, t, end - t});
      t = end;
    }
  }
  return out;
}

torch::Tensor segment_positions(const std::vector<AttentionSegment>& segments, int64_t batch, int64_t tokens) {
  torch::Tensor pos = torch::zeros({batch, tokens}, torch::kInt64);
  auto a = pos.accessor<int64_t, 2>();
  for (const auto& s : segments)
    for (int64_t i = 0; i < s.length; ++i) a[s.row][s.start + i] = i;
  return pos;
}

AttentionContext make_packed_attention_context(const DecoderConfig& config, const torch::Tensor& segment_ids,
                                               torch::Device device, AttentionKernel kernel) {
  AttentionContext ctx;
  ctx.kernel = kernel;
  ctx.segments = segments_from_ids(segment_ids);
  set_rope_tables(config, segment_positions(ctx.segments, segment_ids.size(0), segment_ids.size(1)).to(device),
                  device, ctx);
  for (int64_t i = 0; i < config.num_hidden_layers; ++i)
    if (config.layer_uses_window(i)) ctx.segment_window = *config.sliding_window;
  return ctx;
}

torch::Tensor apply_rope(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin, bool interleaved) {
  if (!interleaved && decode_elementwise_applies(x)) {  // a decode step: one pass instead of ~9 ops
    torch::Tensor y = rope_rows(x, cos, sin);
    if (y.defined()) return y;
  }
  torch::Tensor xf = x.to(torch::kFloat32);
  const int64_t rot = cos.size(-1);
  const bool partial = rot < xf.size(-1);
  torch::Tensor xr = partial ? xf.narrow(-1, 0, rot) : xf;
  // The result's buffer before the temporaries (the rotated copy and its product with sin): a
  // temporary freed below a tensor that backward keeps leaves a hole in the heap that later
  // allocations rarely fit (peak RSS, bench/README.md).
  torch::Tensor out = xr * cos;
  torch::Tensor rotated;
  if (interleaved) {
    using torch::indexing::Slice;
    torch::Tensor even = xr.index({"...", Slice(0, torch::indexing::None, 2)});
    torch::Tensor odd = xr.index({"...", Slice(1, torch::indexing::None, 2)});
    rotated = torch::stack({-odd, even}, -1).flatten(-2);
  } else {
    const int64_t half = rot / 2;
    rotated = torch::cat({-xr.narrow(-1, half, half), xr.narrow(-1, 0, half)}, -1);
  }
  out.add_(rotated * sin);
  if (partial) out = torch::cat({out, xf.narrow(-1, rot, xf.size(-1) - rot)}, -1);
  return out.to(x.scalar_type());
}

namespace {

torch::Tensor attend_plain(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                           const AttentionContext& ctx) {
  const int64_t b = q.size(0), h = q.size(1), t = q.size(2), d = q.size(3);
  const int64_t kv = k.size(1), s = k.size(2), g = h / kv;
  // Group query heads by their key/value head instead of repeating k and v.
  torch::Tensor qg = q.reshape({b, kv, g * t, d});
  torch::Tensor scores = torch::matmul(qg, k.transpose(-1, -2)).to(torch::kFloat32) * (1.0 / std::sqrt(double(d)));
  scores = scores.view({b, h, t, s});
  if (ctx.mask.defined()) {
    scores = scores + ctx.mask;
  } else if (t > 1) {
    auto bopts = torch::TensorOptions().dtype(torch::kBool).device(q.device());
    torch::Tensor future = torch::ones({t, s}, bopts).triu(1 + (s - t));
    scores = scores.masked_fill(future, -std::numeric_limits<float>::infinity());
  }
  torch::Tensor probs = torch::softmax(scores, -1).to(v.scalar_type()).view({b, kv, g * t, s});
  return torch::matmul(probs, v).view({b, h, t, d});
}

#if PSY_HAVE_SDPA
torch::Tensor attend_fused(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                           const AttentionContext& ctx) {
  const int64_t b = q.size(0), h = q.size(1), d = q.size(3);
  const int64_t kv = k.size(1), s = k.size(2), g = h / kv;
  torch::Tensor kk = k, vv = v;
  if (g > 1) {
    kk = k.unsqueeze(2).expand({b, kv, g, s, d}).reshape({b, h, s, d});
    vv = v.unsqueeze(2).expand({b, kv, g, s, d}).reshape({b, h, s, d});
  }
  if (ctx.mask.defined()) {
    return at::scaled_dot_product_attention(q, kk, vv, ctx.mask.to(q.scalar_type()), 0.0, false);
  }
  return at::scaled_dot_product_attention(q, kk, vv, {}, 0.0, /*is_causal=*/q.size(2) > 1);
}
#endif


// Training on the CPU where the plain kernel would run: the memory-efficient kernel
// (memory_efficient_attention.h) gives the same output and gradients without keeping every
// layer's attention probabilities until backward. Inference, the fused kernel and CUDA keep
// their kernels.
bool use_memory_efficient(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                          const AttentionContext& ctx) {
  if (!torch::GradMode::is_enabled() || !(q.requires_grad() || k.requires_grad() || v.requires_grad())) return false;
  if (!q.device().is_cpu() || k.size(2) != q.size(2)) return false;
  return ctx.kernel == AttentionKernel::Plain || (ctx.kernel == AttentionKernel::Auto && PSY_HAVE_SDPA == 0);
}

torch::Tensor attend_one(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                         const AttentionContext& ctx) {
  // A decode step on the CPU: one pass per (sequence, key/value head), not a dozen ops per layer.
  if (ctx.kernel != AttentionKernel::Fused && decode_attention_applies(q, k, v, ctx.mask))
    return decode_attention(q, k, v, ctx.mask);
  if (use_memory_efficient(q, k, v, ctx)) {  // every row one block: causal, or ctx.mask (padding, window)
    std::vector<AttentionSegment> rows;
    for (int64_t r = 0; r < q.size(0); ++r) rows.push_back(AttentionSegment{r, 0, q.size(2)});
    return memory_efficient_attention(q, k, v, rows, 0, ctx.mask).transpose(1, 2);
  }
  switch (ctx.kernel) {
    case AttentionKernel::Plain: return attend_plain(q, k, v, ctx);
    case AttentionKernel::Fused:
#if PSY_HAVE_SDPA
      return attend_fused(q, k, v, ctx);
#else
      throw Error("fused attention needs LibTorch >= 2.0 (this build has " TORCH_VERSION "); use the plain kernel");
#endif
    case AttentionKernel::Auto:
#if PSY_HAVE_SDPA
      return attend_fused(q, k, v, ctx);
#else
      return attend_plain(q, k, v, ctx);
#endif
  }
  return attend_plain(q, k, v, ctx);
}

// Block-diagonal causal attention over packed rows, one segment at a time: each segment is an
// ordinary causal sequence for the kernel (the fused kernel runs it with is_causal and no mask,
// flash attention on CUDA). Gaps (padding) get zeros.
torch::Tensor attend_segments(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                              const AttentionContext& ctx) {
  const int64_t b = q.size(0), h = q.size(1), t = q.size(2), d = q.size(3);
  if (k.size(2) != t)
    throw Error("packed attention: " + expected_found("keys for the new tokens only (no cache)",
                                                      std::to_string(k.size(2)) + " keys for " + std::to_string(t) +
                                                          " tokens"));
  if (use_memory_efficient(q, k, v, ctx))
    return memory_efficient_attention(q, k, v, ctx.segments, ctx.window_active ? ctx.segment_window : 0).transpose(1, 2);
  std::vector<std::vector<torch::Tensor>> pieces(static_cast<size_t>(b));
  std::vector<int64_t> filled(static_cast<size_t>(b), 0);
  auto fill_to = [&](int64_t row, int64_t upto) {
    auto r = static_cast<size_t>(row);
    if (upto > filled[r]) pieces[r].push_back(torch::zeros({1, h, upto - filled[r], d}, q.options()));
    filled[r] = std::max(filled[r], upto);
  };
  for (const auto& seg : ctx.segments) {
    if (seg.row >= b || seg.start < filled[static_cast<size_t>(seg.row)] || seg.start + seg.length > t)
      throw Error("packed attention: segment (row " + std::to_string(seg.row) + ", start " + std::to_string(seg.start) +
                  ", length " + std::to_string(seg.length) + ") " +
                  expected_found("ordered segments inside [" + std::to_string(b) + ", " + std::to_string(t) + "]",
                                 "one outside or overlapping"));
    fill_to(seg.row, seg.start);
    AttentionContext local;
    local.kernel = ctx.kernel;
    const int64_t len = seg.length, w = ctx.segment_window;
    if (ctx.window_active && w > 0 && len > w) {
      auto iopts = torch::TensorOptions().dtype(torch::kInt64).device(q.device());
      torch::Tensor qi = torch::arange(len, iopts).view({len, 1}), ki = torch::arange(len, iopts).view({1, len});
      local.mask = additive_mask(((ki <= qi) & ((qi - ki) < w)).view({1, 1, len, len}), q.device());
    }
    auto part = [&](const torch::Tensor& x) { return x.narrow(0, seg.row, 1).narrow(2, seg.start, len); };
    pieces[static_cast<size_t>(seg.row)].push_back(attend_one(part(q), part(k), part(v), local));
    filled[static_cast<size_t>(seg.row)] = seg.start + len;
  }
  std::vector<torch::Tensor> rows;
  for (int64_t r = 0; r < b; ++r) {
    fill_to(r, t);
    auto& p = pieces[static_cast<size_t>(r)];
    rows.push_back(p.size() == 1 ? p[0] : torch::cat(p, 2));
  }
  return rows.size() == 1 ? rows[0] : torch::cat(rows, 0);
}

}  // namespace

torch::Tensor attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                     const AttentionContext& ctx) {
  if (!ctx.segments.empty()) return attend_segments(q, k, v, ctx);
  return attend_one(q, k, v, ctx);
}

AttentionImpl::AttentionImpl(const DecoderConfig& c, const torch::TensorOptions& options, int64_t layer_index)
    : heads(c.num_attention_heads),
      kv_heads(c.num_key_value_heads),
      head_dim(c.head_dim),
      rope_interleaved(c.rope_interleaved),
      windowed(c.layer_uses_window(layer_index)) {
  q_proj = register_module("q_proj", Projection(c.hidden_size, heads * head_dim, options, c.qkv_bias));
  k_proj = register_module("k_proj", Projection(c.hidden_size, kv_heads * head_dim, options, c.qkv_bias));
  v_proj = register_module("v_proj", Projection(c.hidden_size, kv_heads * head_dim, options, c.qkv_bias));
  o_proj = register_module("o_proj", Projection(heads * head_dim, c.hidden_size, options, c.o_bias));
  if (c.qk_norm) {
    q_norm = register_module("q_norm", RMSNorm(head_dim, c.rms_norm_eps, options));
    k_norm = register_module("k_norm", RMSNorm(head_dim, c.rms_norm_eps, options));
  }
}

torch::Tensor AttentionImpl::forward(const torch::Tensor& x, const AttentionContext& ctx, KVCache* cache,
                                     int64_t layer_index) {
  const int64_t b = x.size(0), t = x.size(1);
  torch::Tensor q = q_proj->forward(x).view({b, t, heads, head_dim});
  torch::Tensor k = k_proj->forward(x).view({b, t, kv_heads, head_dim});
  if (q_norm) {  // per head, before RoPE
    q = q_norm->forward(q);
    k = k_norm->forward(k);
  }
  q = q.transpose(1, 2);
  k = k.transpose(1, 2);
  torch::Tensor v = v_proj->forward(x).view({b, t, kv_heads, head_dim}).transpose(1, 2);
  q = apply_rope(q, ctx.cos, ctx.sin, rope_interleaved);
  k = apply_rope(k, ctx.cos, ctx.sin, rope_interleaved);
  if (cache) {
    auto kv = cache->append(layer_index, k, v);
    k = kv.first;
    v = kv.second;
  }
  torch::Tensor out;
  if (windowed && ctx.window_mask.defined()) {
    AttentionContext local = ctx;
    local.mask = ctx.window_mask;
    out = attend(q, k, v, local);  // [B, H, T, D]
  } else if (windowed && !ctx.segments.empty()) {
    AttentionContext local = ctx;
    local.window_active = true;
    out = attend(q, k, v, local);
  } else {
    out = attend(q, k, v, ctx);
  }
  out = out.transpose(1, 2).reshape({b, t, heads * head_dim});
  return o_proj->forward(out);
}

}  // namespace psy

#include "libpsy/nn/decode_layers_cpu.h"

#include <atomic>
#include <type_traits>
#include <vector>

#include <c10/util/BFloat16.h>

#include "libpsy/core/cpu_features.h"
#include "libpsy/nn/decode_attention.h"
#include "libpsy/nn/decode_elementwise.h"
#include "libpsy/nn/decoder.h"
#include "libpsy/nn/few_rows_matmul.h"
#include "libpsy/nn/swiglu.h"

namespace psy {
namespace {

std::atomic<int64_t> steps_taken{0};

bool cpu_weight(const torch::Tensor& w, torch::ScalarType dtype) {
  return w.defined() && w.device().is_cpu() && w.scalar_type() == dtype && w.is_contiguous();
}

bool projection_fits(const ProjectionImpl& p, torch::ScalarType dtype) {
  return !p.nf4 && cpu_weight(p.weight, dtype) && (!p.bias.defined() || cpu_weight(p.bias, dtype));
}

bool layer_fits(const DecoderLayerImpl& layer, torch::ScalarType dtype) {
  const AttentionImpl& a = *layer.self_attn;
  const MLPImpl& m = *layer.mlp;
  if (!m.gate_proj || !m.up_proj || layer.post_self_attn_layernorm) return false;
  for (const ProjectionImpl* p : {a.q_proj.get(), a.k_proj.get(), a.v_proj.get(), a.o_proj.get(), m.gate_proj.get(),
                                  m.up_proj.get(), m.down_proj.get()})
    if (!projection_fits(*p, dtype)) return false;
  if (!cpu_weight(layer.input_layernorm->weight, dtype) || !cpu_weight(layer.post_attention_layernorm->weight, dtype))
    return false;
  if (a.q_norm && (!cpu_weight(a.q_norm->weight, dtype) || !cpu_weight(a.k_norm->weight, dtype))) return false;
  return true;
}

bool mask_fits(const torch::Tensor& mask, int64_t batch, int64_t keys) {
  return !mask.defined() || (mask.scalar_type() == torch::kFloat32 && mask.device().is_cpu() && mask.dim() == 4 &&
                             mask.size(0) == batch && mask.size(1) == 1 && mask.size(2) == 1 && mask.size(3) == keys);
}

// y += the projection's LoRA branch of x, through the module's own call (the same LibTorch ops).
void add_lora(ProjectionImpl& p, const torch::Tensor& x, torch::Tensor& y) {
  if (!p.has_lora()) return;
  torch::Tensor sum = p.add_lora_branch(x, y);
  if (!sum.is_same(y)) y.copy_(sum);
}

// h += a, elementwise in fp32 and rounded to T (LibTorch's add_ of two T tensors).
template <typename T>
void add_residual(const T* a, int64_t n, T* h) {
  for (int64_t i = 0; i < n; ++i) h[i] = static_cast<T>(static_cast<float>(a[i]) + static_cast<float>(h[i]));
}

// The step's buffers, made once and reused by every layer. Tensors where LibTorch reads them (LoRA,
// SwiGLU) with the shapes the module path gives them ([B, 1, N]).
struct Buffers {
  Buffers(int64_t b, const DecoderConfig& c, const torch::TensorOptions& opts) {
    const int64_t q = c.num_attention_heads * c.head_dim, kv = c.num_key_value_heads * c.head_dim;
    const int64_t inter = c.intermediate_size, hidden = c.hidden_size;
    auto f32 = opts.dtype(torch::kFloat32);
    normed = torch::empty({b, 1, hidden}, opts);
    q_raw = torch::empty({b, 1, q}, opts);
    k_raw = torch::empty({b, 1, kv}, opts);
    v = torch::empty({b, 1, kv}, opts);
    q_rot = torch::empty({b, 1, q}, opts);
    k_rot = torch::empty({b, 1, kv}, opts);
    attended = torch::empty({b, 1, q}, opts);
    out = torch::empty({b, 1, hidden}, opts);
    gate = torch::empty({b, 1, inter}, opts);
    up = torch::empty({b, 1, inter}, opts);
    part_size = b * std::max({q, kv, inter, hidden});
    acc = torch::empty({3 * part_size}, f32);  // the fp32 sums of up to 3 products at once
  }
  torch::Tensor normed, q_raw, k_raw, v, q_rot, k_rot, attended, out, gate, up, acc;
  int64_t part_size = 0;
  float* acc_part(int64_t i) { return acc.data_ptr<float>() + i * part_size; }
};

template <typename T>
T* ptr(const torch::Tensor& t) {
  return t.data_ptr<T>();
}

// Projections sharing one input, in one fork-join: out[i] = x W_i^T (+ bias), + LoRA.
template <typename T>
void project(const torch::Tensor& x, std::initializer_list<std::pair<ProjectionImpl*, torch::Tensor*>> outs, Buffers& buf) {
  const int64_t rows = x.size(0);
  std::vector<FewRowsProduct> products;
  int64_t i = 0;
  for (const auto& [p, y] : outs) {
    // fp32 steps read the weight's bf16 copy where that is exact (exact_bf16.h): the same sums.
    const torch::Tensor* narrow = std::is_same_v<T, float> ? p->exact_bf16_weight() : nullptr;
    products.push_back(FewRowsProduct{x.data_ptr(), rows, narrow != nullptr ? narrow : &p->weight, buf.acc_part(i++),
                                      narrow != nullptr});
  }
  few_rows_matmuls(products);
  i = 0;
  for (const auto& [p, y] : outs) {
    few_rows_finish(buf.acc_part(i++), p->bias.defined() ? ptr<T>(p->bias) : nullptr, rows, p->weight.size(0), ptr<T>(*y));
    add_lora(*p, x, *y);
  }
}

template <typename T>
torch::Tensor run_layers(DecoderImpl& d, const torch::Tensor& h_in, const AttentionContext& ctx, KVCache& cache) {
  const DecoderConfig& c = d.config();
  const int64_t b = h_in.size(0), heads = c.num_attention_heads, kv_heads = c.num_key_value_heads, dim = c.head_dim;
  const int64_t hidden = c.hidden_size;
  const auto eps = static_cast<float>(c.rms_norm_eps);
  torch::Tensor h = h_in.contiguous().clone();  // the residual stream [B, 1, hidden]
  Buffers buf(b, c, h.options());
  const torch::Tensor cos = ctx.cos.contiguous(), sin = ctx.sin.contiguous();
  const torch::Tensor mask = ctx.mask.defined() ? ctx.mask.contiguous() : ctx.mask;
  const torch::Tensor window_mask = ctx.window_mask.defined() ? ctx.window_mask.contiguous() : ctx.window_mask;
  T* hp = ptr<T>(h);
  for (auto& layer : d.layers()) {
    AttentionImpl& a = *layer->self_attn;
    MLPImpl& m = *layer->mlp;
    rms_norm_kernel(hp, ptr<T>(layer->input_layernorm->weight), b, hidden, eps, ptr<T>(buf.normed));
    project<T>(buf.normed, {{a.q_proj.get(), &buf.q_raw}, {a.k_proj.get(), &buf.k_raw}, {a.v_proj.get(), &buf.v}}, buf);
    if (a.q_norm) {  // per head, in place (each row is read before it is written)
      const auto qk_eps = static_cast<float>(a.q_norm->eps);
      rms_norm_kernel(ptr<T>(buf.q_raw), ptr<T>(a.q_norm->weight), b * heads, dim, qk_eps, ptr<T>(buf.q_raw));
      rms_norm_kernel(ptr<T>(buf.k_raw), ptr<T>(a.k_norm->weight), b * kv_heads, dim, qk_eps, ptr<T>(buf.k_raw));
    }
    // [B, 1, heads, D] and [B, heads, 1, D] are the same memory: RoPE's rows are the heads.
    rope_kernel(ptr<T>(buf.q_raw), cos.data_ptr<float>(), sin.data_ptr<float>(), b * heads, heads, 1, dim, ptr<T>(buf.q_rot));
    rope_kernel(ptr<T>(buf.k_raw), cos.data_ptr<float>(), sin.data_ptr<float>(), b * kv_heads, kv_heads, 1, dim,
                ptr<T>(buf.k_rot));

    // [B, 1, kv_heads * D] is [B, kv_heads, D]: one new position per row.
    auto [keys, values] = cache.append_step(layer->index, buf.k_rot.data_ptr(), buf.v.data_ptr());
    DecodeAttentionShape shape{b, heads, 1, dim, kv_heads, cache.length_of(layer->index), {}, {}};
    for (int i = 0; i < 3; ++i) {
      shape.k_stride[i] = keys.stride(i);
      shape.v_stride[i] = values.stride(i);
    }
    T* kp = ptr<T>(keys);
    T* vp = ptr<T>(values);
    const torch::Tensor& layer_mask = a.windowed && window_mask.defined() ? window_mask : mask;
    decode_attention_raw(shape, ptr<T>(buf.q_rot), kp, vp, layer_mask.defined() ? layer_mask.data_ptr<float>() : nullptr,
                         ptr<T>(buf.attended));
    project<T>(buf.attended, {{a.o_proj.get(), &buf.out}}, buf);
    add_residual(ptr<T>(buf.out), b * hidden, hp);

    rms_norm_kernel(hp, ptr<T>(layer->post_attention_layernorm->weight), b, hidden, eps, ptr<T>(buf.normed));
    project<T>(buf.normed, {{m.gate_proj.get(), &buf.gate}, {m.up_proj.get(), &buf.up}}, buf);
    const torch::Tensor act = swiglu(buf.gate, buf.up).contiguous();
    project<T>(act, {{m.down_proj.get(), &buf.out}}, buf);
    add_residual(ptr<T>(buf.out), b * hidden, hp);
  }
  steps_taken.fetch_add(1, std::memory_order_relaxed);
  return h;
}

}  // namespace

bool decode_layers_cpu_applies(const DecoderImpl& decoder, const torch::Tensor& h, const AttentionContext& ctx,
                               const KVCache* cache) {
  const DecoderConfig& c = decoder.config();
  const torch::ScalarType dtype = h.scalar_type();
  if (cache == nullptr || torch::GradMode::is_enabled() || !cpu_features().avx512f) return false;
  if (few_rows_matmul_isa() == FewRowsIsa::None) return false;
  if (dtype != torch::kFloat32 && dtype != torch::kBFloat16) return false;
  if (!h.device().is_cpu() || h.dim() != 3 || h.size(1) != 1 || h.size(0) < 1 || h.size(0) > kFewRowsMatmulDecodeRows)
    return false;
  const int64_t b = h.size(0);
  if (c.rope_interleaved || c.rotary_dim() != c.head_dim || c.fused_gate_up || c.sandwich_norms) return false;
  if (c.head_dim % 16 != 0 || c.head_dim > kDecodeAttentionMaxHeadDim || c.num_key_value_heads < 1 ||
      c.num_attention_heads % c.num_key_value_heads != 0 || b * c.num_attention_heads > kDecodeElementwiseMaxRows)
    return false;
  if (ctx.kernel == AttentionKernel::Fused || !ctx.segments.empty()) return false;
  if (!ctx.cos.defined() || ctx.cos.scalar_type() != torch::kFloat32 || !ctx.cos.device().is_cpu() ||
      ctx.cos.sizes() != torch::IntArrayRef({b, 1, 1, c.head_dim}) || ctx.sin.sizes() != ctx.cos.sizes())
    return false;
  if (cache->batch() != b || cache->length() < 1 || cache->scalar_type() != dtype) return false;
  const int64_t keys = cache->length() + 1;
  if (!mask_fits(ctx.mask, b, keys) || !mask_fits(ctx.window_mask, b, keys)) return false;
  for (const auto& layer : decoder.layers())
    if (!layer_fits(*layer, dtype) || cache->length_of(layer->index) != cache->length()) return false;
  return true;
}

torch::Tensor decode_layers_cpu(DecoderImpl& decoder, const torch::Tensor& h, const AttentionContext& ctx,
                                KVCache& cache) {
  if (h.scalar_type() == torch::kFloat32) return run_layers<float>(decoder, h, ctx, cache);
  return run_layers<c10::BFloat16>(decoder, h, ctx, cache);
}

int64_t decode_layers_cpu_steps() { return steps_taken.load(std::memory_order_relaxed); }

}  // namespace psy

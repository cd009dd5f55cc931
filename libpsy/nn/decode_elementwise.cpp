#include "libpsy/nn/decode_elementwise.h"

#include <cmath>

#include <c10/util/BFloat16.h>

namespace psy {
namespace {

// The kernels read and write fp32 or bf16 through these; arithmetic is fp32 throughout. (This file
// is compiled for the baseline x86-64, which has no FMA, so a * b + c is never contracted into a
// differently rounded fused multiply-add.)
inline float load(const float* p, int64_t i) { return p[i]; }
inline float load(const c10::BFloat16* p, int64_t i) { return static_cast<float>(p[i]); }
inline void store(float* p, int64_t i, float v) { p[i] = v; }
inline void store(c10::BFloat16* p, int64_t i, float v) { p[i] = c10::BFloat16(v); }  // round to nearest even

}  // namespace

template <typename T, typename W>
void rms_norm_kernel(const T* x, const W* w, int64_t rows, int64_t n, float eps, T* y) {
  for (int64_t r = 0; r < rows; ++r, x += n, y += n) {
    float sum = 0.0f;
    for (int64_t i = 0; i < n; ++i) sum += load(x, i) * load(x, i);
    const float rstd = 1.0f / std::sqrt(sum / static_cast<float>(n) + eps);
    for (int64_t i = 0; i < n; ++i) store(y, i, load(x, i) * rstd * load(w, i));
  }
}

// x, y [rows, d] where every `heads` consecutive rows share one row of cos/sin [.., d].
template <typename T>
void rope_kernel(const T* x, const float* cos, const float* sin, int64_t rows, int64_t heads_per_angle,
                 int64_t tokens, int64_t d, T* y) {
  const int64_t half = d / 2;
  for (int64_t r = 0; r < rows; ++r) {
    // x is [B, H, T, D]: row r = (b * H + h) * T + t; cos is [B, 1, T, D]: row b * T + t.
    const int64_t t = r % tokens, b = r / (tokens * heads_per_angle);
    const float* c = cos + (b * tokens + t) * d;
    const float* s = sin + (b * tokens + t) * d;
    const T* xr = x + r * d;
    T* yr = y + r * d;
    for (int64_t i = 0; i < half; ++i) store(yr, i, load(xr, i) * c[i] + -load(xr, i + half) * s[i]);
    for (int64_t i = half; i < d; ++i) store(yr, i, load(xr, i) * c[i] + load(xr, i - half) * s[i]);
  }
}

template void rms_norm_kernel(const float*, const float*, int64_t, int64_t, float, float*);
template void rms_norm_kernel(const c10::BFloat16*, const c10::BFloat16*, int64_t, int64_t, float, c10::BFloat16*);
template void rms_norm_kernel(const c10::BFloat16*, const float*, int64_t, int64_t, float, c10::BFloat16*);
template void rope_kernel(const float*, const float*, const float*, int64_t, int64_t, int64_t, int64_t, float*);
template void rope_kernel(const c10::BFloat16*, const float*, const float*, int64_t, int64_t, int64_t, int64_t,
                          c10::BFloat16*);

bool decode_elementwise_applies(const torch::Tensor& x) {
  if (!x.device().is_cpu() || x.dim() < 1 || x.size(-1) == 0) return false;
  if (x.scalar_type() != torch::kFloat32 && x.scalar_type() != torch::kBFloat16) return false;
  if (x.numel() > kDecodeElementwiseMaxRows * x.size(-1)) return false;
  return !(torch::GradMode::is_enabled() && x.requires_grad());
}

torch::Tensor rms_norm_rows(const torch::Tensor& x, const torch::Tensor& weight, double eps) {
  const torch::Tensor xc = x.contiguous();
  // The weight in x's dtype as it is (a bf16 model's norms are bf16), otherwise widened to fp32.
  const bool same = weight.scalar_type() == x.scalar_type();
  const torch::Tensor w = (same ? weight : weight.to(torch::kFloat32)).contiguous();
  torch::Tensor y = torch::empty_like(xc, torch::MemoryFormat::Contiguous);
  const int64_t n = x.size(-1), rows = x.numel() / n;
  const auto e = static_cast<float>(eps);
  if (x.scalar_type() == torch::kFloat32) {
    rms_norm_kernel(xc.data_ptr<float>(), w.data_ptr<float>(), rows, n, e, y.data_ptr<float>());
  } else {
    using Bf16 = c10::BFloat16;
    if (same) rms_norm_kernel(xc.data_ptr<Bf16>(), w.data_ptr<Bf16>(), rows, n, e, y.data_ptr<Bf16>());
    else rms_norm_kernel(xc.data_ptr<Bf16>(), w.data_ptr<float>(), rows, n, e, y.data_ptr<Bf16>());
  }
  return y;
}

torch::Tensor rope_rows(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin) {
  if (x.dim() != 4 || cos.dim() != 4 || cos.sizes() != sin.sizes() || cos.scalar_type() != torch::kFloat32 ||
      sin.scalar_type() != torch::kFloat32 || !cos.device().is_cpu() || cos.size(-1) != x.size(-1) ||
      x.size(-1) % 2 != 0 || cos.size(0) != x.size(0) || cos.size(1) != 1 || cos.size(2) != x.size(2))
    return {};
  const torch::Tensor xc = x.contiguous(), c = cos.contiguous(), s = sin.contiguous();
  torch::Tensor y = torch::empty_like(xc, torch::MemoryFormat::Contiguous);
  const int64_t d = x.size(3), rows = x.numel() / d, heads = x.size(1), tokens = x.size(2);
  if (x.scalar_type() == torch::kFloat32)
    rope_kernel(xc.data_ptr<float>(), c.data_ptr<float>(), s.data_ptr<float>(), rows, heads, tokens, d,
                y.data_ptr<float>());
  else
    rope_kernel(xc.data_ptr<c10::BFloat16>(), c.data_ptr<float>(), s.data_ptr<float>(), rows, heads, tokens, d,
                y.data_ptr<c10::BFloat16>());
  return y;
}

}  // namespace psy

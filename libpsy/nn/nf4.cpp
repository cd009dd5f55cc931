#include "libpsy/nn/nf4.h"

#include "libpsy/core/error.h"
#include "libpsy/nn/decoder.h"
#include "libpsy/nn/projection.h"

namespace psy {

const std::array<float, 16>& nf4_codebook() {
  static const std::array<float, 16> levels = {
      -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f, -0.28444138169288635f,
      -0.18477343022823334f, -0.09105003625154495f, 0.0f, 0.07958029955625534f, 0.16093020141124725f,
      0.24611230194568634f, 0.33791524171829224f, 0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f,
      1.0f};
  return levels;
}

namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

torch::Tensor codebook_tensor(const torch::Device& device) {
  const auto& cb = nf4_codebook();
  return torch::from_blob(const_cast<float*>(cb.data()), {16}, torch::kFloat32).to(device);
}

// Midpoints between neighbouring levels: bucketize(x, midpoints) is the nearest level's index.
torch::Tensor midpoints(const torch::Device& device) {
  torch::Tensor cb = codebook_tensor(device);
  return (cb.slice(0, 0, 15) + cb.slice(0, 1, 16)) * 0.5;
}

}  // namespace

int64_t Nf4Weight::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

int64_t Nf4Weight::storage_bytes() const {
  int64_t bytes = codes.numel();
  if (double_quant())
    bytes += absmax_codes.numel() + absmax_scales.numel() * 4 + 4;
  else
    bytes += absmax.numel() * 4;
  return bytes;
}

int64_t nf4_storage_bytes(int64_t numel, bool double_quant) {
  const int64_t blocks = ceil_div(numel, kNf4BlockSize);
  int64_t bytes = blocks * (kNf4BlockSize / 2);
  bytes += double_quant ? blocks + ceil_div(blocks, kNf4ScaleBlockSize) * 4 + 4 : blocks * 4;
  return bytes;
}

double nf4_bits_per_weight(int64_t numel, bool double_quant) {
  return numel > 0 ? 8.0 * static_cast<double>(nf4_storage_bytes(numel, double_quant)) / static_cast<double>(numel) : 0.0;
}

Nf4Weight nf4_quantize(const torch::Tensor& weight, bool double_quant) {
  if (!weight.defined() || weight.numel() == 0) throw Error("nf4_quantize: " + expected_found("a non-empty tensor", "an empty one"));
  if (!weight.is_floating_point())
    throw Error("nf4_quantize: " + expected_found("a floating-point tensor", std::string(c10::toString(weight.scalar_type()))));
  torch::NoGradGuard no_grad;
  Nf4Weight out;
  out.shape = weight.sizes().vec();
  out.dtype = weight.scalar_type();
  const int64_t n = weight.numel();
  const int64_t blocks = ceil_div(n, kNf4BlockSize);
  torch::Tensor flat = weight.detach().reshape({-1}).to(torch::kFloat32);
  if (blocks * kNf4BlockSize != n) flat = torch::cat({flat, torch::zeros({blocks * kNf4BlockSize - n}, flat.options())});
  torch::Tensor b = flat.view({blocks, kNf4BlockSize});
  torch::Tensor absmax = std::get<0>(b.abs().max(1));
  // An all-zero block gets scale 1 (every value maps to the exact 0 level).
  torch::Tensor safe = torch::where(absmax > 0, absmax, torch::ones_like(absmax));
  torch::Tensor idx = torch::bucketize(b / safe.unsqueeze(1), midpoints(weight.device())).to(torch::kUInt8);
  idx = idx.view({-1, 2});
  out.codes = (idx.select(1, 0) * 16 + idx.select(1, 1)).to(torch::kUInt8).contiguous();
  if (!double_quant) {
    out.absmax = safe.contiguous();
    return out;
  }
  out.absmax_offset = safe.mean().item<double>();
  const int64_t sblocks = ceil_div(blocks, kNf4ScaleBlockSize);
  torch::Tensor centred = safe - out.absmax_offset;
  if (sblocks * kNf4ScaleBlockSize != blocks)
    centred = torch::cat({centred, torch::zeros({sblocks * kNf4ScaleBlockSize - blocks}, centred.options())});
  torch::Tensor sb = centred.view({sblocks, kNf4ScaleBlockSize});
  torch::Tensor smax = std::get<0>(sb.abs().max(1));
  smax = torch::where(smax > 0, smax, torch::ones_like(smax));
  torch::Tensor q = torch::round(sb / smax.unsqueeze(1) * 127.0).clamp(-127, 127).to(torch::kInt8);
  out.absmax_codes = q.reshape({-1}).slice(0, 0, blocks).contiguous();
  out.absmax_scales = (smax / 127.0).contiguous();
  return out;
}

torch::Tensor nf4_block_scales(const Nf4Weight& w) {
  if (!w.double_quant()) return w.absmax;
  const int64_t blocks = w.absmax_codes.numel();
  torch::Tensor per = w.absmax_scales.repeat_interleave(kNf4ScaleBlockSize).slice(0, 0, blocks);
  return w.absmax_codes.to(torch::kFloat32) * per + w.absmax_offset;
}

torch::Tensor nf4_dequantize(const Nf4Weight& w, c10::optional<torch::ScalarType> dtype) {
  torch::NoGradGuard no_grad;
  const auto device = w.codes.device();
  torch::Tensor hi = torch::bitwise_right_shift(w.codes, 4);
  torch::Tensor lo = torch::bitwise_and(w.codes, 15);
  torch::Tensor idx = torch::stack({hi, lo}, 1).reshape({-1}).to(torch::kLong);
  torch::Tensor values = codebook_tensor(device).index_select(0, idx).view({-1, kNf4BlockSize});
  values = values * nf4_block_scales(w).unsqueeze(1);
  return values.reshape({-1}).slice(0, 0, w.numel()).view(w.shape).to(dtype.value_or(w.dtype));
}

namespace {

// Saves the 4-bit tensors (shallow references, no copy) rather than a dequantised weight.
class Nf4LinearFunction : public torch::autograd::Function<Nf4LinearFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, const Nf4Weight& w) {
    ctx->saved_data["codes"] = w.codes;
    ctx->saved_data["shape"] = w.shape;
    ctx->saved_data["dtype"] = static_cast<int64_t>(w.dtype);
    if (w.double_quant()) {
      ctx->saved_data["absmax_codes"] = w.absmax_codes;
      ctx->saved_data["absmax_scales"] = w.absmax_scales;
      ctx->saved_data["absmax_offset"] = w.absmax_offset;
    } else {
      ctx->saved_data["absmax"] = w.absmax;
    }
    return torch::matmul(x, nf4_dequantize(w, x.scalar_type()).t());
  }
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::tensor_list grads) {
    Nf4Weight w;
    auto& saved = ctx->saved_data;
    w.codes = saved["codes"].toTensor();
    w.shape = saved["shape"].toIntVector();
    w.dtype = static_cast<torch::ScalarType>(saved["dtype"].toInt());
    if (saved.count("absmax") != 0) {
      w.absmax = saved["absmax"].toTensor();
    } else {
      w.absmax_codes = saved["absmax_codes"].toTensor();
      w.absmax_scales = saved["absmax_scales"].toTensor();
      w.absmax_offset = saved["absmax_offset"].toDouble();
    }
    torch::Tensor g = grads[0];
    return {torch::matmul(g, nf4_dequantize(w, g.scalar_type())), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor nf4_linear(const torch::Tensor& x, const Nf4Weight& w) {
  if (w.shape.size() != 2 || x.size(-1) != w.shape[1])
    throw Error("nf4_linear: " + expected_found("x [..., " + std::to_string(w.shape.size() == 2 ? w.shape[1] : -1) + "]",
                                               "last dimension " + std::to_string(x.size(-1))));
  if (!x.requires_grad() || !torch::GradMode::is_enabled())
    return torch::matmul(x, nf4_dequantize(w, x.scalar_type()).t());
  return Nf4LinearFunction::apply(x, w);
}

void quantize_nf4(ProjectionImpl& p, bool double_quant) {
  if (p.nf4) return;
  auto w = std::make_shared<Nf4Weight>(nf4_quantize(p.weight, double_quant));
  torch::NoGradGuard no_grad;
  // Keep a tensor with the weight's shape, dtype and device for the code that asks for them,
  // backed by one element.
  torch::Tensor stub = torch::zeros({1, 1}, p.weight.options()).expand({p.weight.size(0), p.weight.size(1)});
  p.weight.set_data(stub);
  p.nf4 = std::move(w);
}

Nf4ModelSummary quantize_decoder_nf4(DecoderImpl& decoder, bool double_quant, bool include_lm_head) {
  Nf4ModelSummary s;
  for (auto& [name, proj] : decoder.projections()) {
    if (name == "lm_head" && (!include_lm_head || decoder.config().tie_word_embeddings)) continue;  // tied: the embeddings
    if (name.rfind("model.layers.", 0) != 0 && name != "lm_head") continue;
    if (proj->nf4) continue;
    const int64_t n = proj->weight.numel();
    s.bytes_before += n * static_cast<int64_t>(proj->weight.element_size());
    quantize_nf4(*proj, double_quant);
    s.bytes_after += proj->nf4->storage_bytes();
    s.weights += n;
    ++s.projections;
  }
  return s;
}

}  // namespace psy

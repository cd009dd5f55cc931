// 4-bit NormalFloat (NF4) weights, as in QLoRA (Dettmers et al., 2023): each block of 64
// consecutive values (row-major) is scaled by its absolute maximum and every value is stored as
// the 4-bit index of the nearest of 16 levels (the paper's NF4 codebook, quantiles of a normal
// distribution, with exact 0 and +-1). Two indices per byte, the first in the high nibble.
// Optional double quantisation of the fp32 block scales: their mean is subtracted and the
// rest stored as 8-bit codes with one fp32 scale per 256 scales (symmetric linear int8 here;
// bitsandbytes uses its 8-bit dynamic float map, so stored bytes are not interchangeable).
//
// Storage, in bits per weight: 4 + 32/64 = 4.5 without double quantisation, and
// 4 + 8/64 + 32/(64*256) ~= 4.127 with it.
//
// A frozen base weight is dequantised on the fly: nf4_linear(x, w) computes x W^T with a
// custom autograd function that keeps only the 4-bit weight and dequantises again in the
// backward pass to give the input gradient (the base weight itself gets none), so gradients
// reach LoRA adapters in earlier layers without keeping a dequantised copy per layer.
#pragma once
#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <vector>

namespace psy {

class ProjectionImpl;  // projection.h
class DecoderImpl;     // decoder.h

constexpr int64_t kNf4BlockSize = 64;
constexpr int64_t kNf4ScaleBlockSize = 256;

// The 16 NF4 levels in ascending order (index 7 is exactly 0).
const std::array<float, 16>& nf4_codebook();

struct Nf4Weight {
  std::vector<int64_t> shape;           // the original shape, e.g. [out, in]
  torch::ScalarType dtype = torch::kFloat32;  // dtype of dequantised values
  torch::Tensor codes;                  // uint8 [ceil(numel/64)*32], two 4-bit indices per byte
  // Without double quantisation: absmax fp32 [blocks]. With it: absmax is undefined and
  torch::Tensor absmax;
  torch::Tensor absmax_codes;           // int8 [blocks]
  torch::Tensor absmax_scales;          // fp32 [ceil(blocks/256)]
  double absmax_offset = 0.0;           // mean of the block scales
  bool double_quant() const { return absmax_codes.defined(); }
  int64_t numel() const;
  // Bytes held (codes + scales), what a model's memory accounting counts.
  int64_t storage_bytes() const;
};

// Quantises any floating tensor (on its device). Throws psy::Error for an empty or
// non-floating tensor.
Nf4Weight nf4_quantize(const torch::Tensor& weight, bool double_quant = false);

// The block scales as fp32 [blocks] (undoing double quantisation).
torch::Tensor nf4_block_scales(const Nf4Weight& w);

// The weight back in `dtype` (default: the original dtype) with the original shape.
torch::Tensor nf4_dequantize(const Nf4Weight& w, c10::optional<torch::ScalarType> dtype = c10::nullopt);

// x W^T for x [..., in] with W = dequantize(w) [out, in], in x's dtype. Differentiable in x only.
torch::Tensor nf4_linear(const torch::Tensor& x, const Nf4Weight& w);

// Storage bits per weight for a tensor of `numel` values (exact, including partial blocks).
double nf4_bits_per_weight(int64_t numel, bool double_quant);
int64_t nf4_storage_bytes(int64_t numel, bool double_quant);

// Quantises a projection's base weight (QLoRA: at load time, once) and releases the
// full-precision copy; LoRA adapters are unaffected and stay fp32. No-op if already quantised.
void quantize_nf4(ProjectionImpl& projection, bool double_quant = true);

struct Nf4ModelSummary {
  int64_t projections = 0;   // how many were quantised
  int64_t weights = 0;       // their parameter count
  int64_t bytes_before = 0;  // their storage before (in their dtype)
  int64_t bytes_after = 0;   // NF4 storage
};

// Quantises every projection inside the decoder layers (q, k, v, o, gate, up, down); the
// embeddings, norms and (unless include_lm_head) lm_head stay as they are, as in QLoRA.
Nf4ModelSummary quantize_decoder_nf4(DecoderImpl& decoder, bool double_quant = true, bool include_lm_head = false);

}  // namespace psy

// What the CPU running psy can execute, asked once: the hand-written kernels (few_rows_matmul,
// decode_attention, hashed_dropout) pick their code path from it, and the process start picks
// OpenBLAS's kernels for a CPU OpenBLAS does not know (libpsy/runtime/openblas_core.h). No LibTorch.
#pragma once

namespace psy {

struct CpuFeatures {
  bool avx2_fma = false;    // AVX2 and FMA3
  bool avx512f = false;     // AVX-512 Foundation
  bool avx512_bf16 = false; // AVX-512 F, BW, VL and BF16 (vdpbf16ps)
  bool avx512_skylake_x = false;  // AVX-512 F, CD, BW, DQ and VL: what OpenBLAS's SkylakeX kernels use
};

const CpuFeatures& cpu_features();

}  // namespace psy

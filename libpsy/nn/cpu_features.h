// What the CPU running psy can execute, asked once: the hand-written decode kernels
// (few_rows_matmul, decode_attention) pick their code path from it.
#pragma once

namespace psy {

struct CpuFeatures {
  bool avx2_fma = false;    // AVX2 and FMA3
  bool avx512f = false;     // AVX-512 Foundation
  bool avx512_bf16 = false; // AVX-512 F, BW and BF16 (vdpbf16ps)
};

const CpuFeatures& cpu_features();

}  // namespace psy

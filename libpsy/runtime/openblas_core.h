// OpenBLAS's kernels for this CPU. Debian 12's OpenBLAS (0.3.21, built for every x86 core at once)
// picks them from the CPU's model number when it is loaded. A CPU newer than the library is not in
// its table, and it falls back to "Prescott", SSE3 kernels: on an Intel Xeon of model 207 (Emerald
// Rapids, AVX-512 and AMX) a LoRA training step ran 2.5x slower (bench_train: 244-259 against
// 640-642 tokens/s with OPENBLAS_CORETYPE=SkylakeX, bench/README.md). OPENBLAS_CORETYPE, read
// when the library is loaded, picks the kernels instead (process_environment.h sets it).
// No LibTorch here: OpenBLAS is asked through the dynamic linker.
#pragma once

namespace psy {

// The kernels OpenBLAS runs in this process ("Haswell", "SkylakeX", "Prescott", ...), or nullptr
// when no OpenBLAS is loaded.
const char* openblas_core();

// When OpenBLAS fell back to Prescott on a CPU that runs better kernels: "SkylakeX" (AVX-512 F, CD,
// BW, DQ and VL) or "Haswell" (AVX2 and FMA). Otherwise nullptr: a core OpenBLAS recognised is kept.
const char* better_openblas_core();

}  // namespace psy

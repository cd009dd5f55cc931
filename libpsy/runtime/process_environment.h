// Settings psy's processes need from the start. libgomp and OpenBLAS read theirs once, when they
// are loaded, before main: the only way to change them for the process itself is to set them and
// start the program again. settle_process_environment() does that, once, for:
//   - OMP_WAIT_POLICY=PASSIVE, when unset. LibTorch's OpenMP threads spin between parallel regions
//     by default, and OpenBLAS runs its own threads beside them: on a small machine the spinning
//     threads take the cores the matrix products need. Measured on 2 cores, a psy eval ran 2.7x
//     faster and a LoRA step up to 4x faster with the passive policy.
//   - OPENBLAS_CORETYPE, when unset and OpenBLAS fell back to its SSE3 kernels on a CPU it does not
//     know (openblas_core.h: a LoRA step 2.5x slower).
// A value the user set is always kept. No LibTorch here.
#pragma once

namespace psy {

// Sets what is missing and re-executes this program with the same arguments (does not return
// then). Returns when nothing was missing, or when the re-execution failed (the process goes on
// as it is; its children inherit the settings).
void settle_process_environment(char** argv);

// The OpenMP wait policy in effect for this process: the environment's OMP_WAIT_POLICY, or
// "active (default)".
const char* openmp_wait_policy();

}  // namespace psy

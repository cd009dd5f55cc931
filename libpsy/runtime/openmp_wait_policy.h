// OpenMP's wait policy for psy's processes. LibTorch's OpenMP threads spin between parallel regions
// by default (OMP_WAIT_POLICY=active), and OpenBLAS runs its own threads beside them: on a small
// machine the spinning threads take the cores the matrix products need. Measured on 2 cores, a
// psy eval ran 2.7x faster and a LoRA step up to 4x faster with the passive policy. libgomp reads
// the policy once, when it is loaded, before main, so the only way to set it for the process
// itself is to set it and start the program again.
#pragma once

namespace psy {

// When OMP_WAIT_POLICY is not set: sets it to PASSIVE and re-executes this program with the same
// arguments (does not return on success). When the user set it, or the re-execution fails,
// returns and the process goes on as it is.
void use_passive_openmp_wait_policy(char** argv);

// The policy in effect for this process: the environment's OMP_WAIT_POLICY, or "active (default)".
const char* openmp_wait_policy();

}  // namespace psy

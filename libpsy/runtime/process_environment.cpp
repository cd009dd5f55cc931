#include "libpsy/runtime/process_environment.h"

#include <unistd.h>

#include <cstdlib>

#include "libpsy/runtime/openblas_core.h"

namespace psy {

void settle_process_environment(char** argv) {
  bool changed = false;
  if (std::getenv("OMP_WAIT_POLICY") == nullptr && setenv("OMP_WAIT_POLICY", "PASSIVE", 1) == 0) changed = true;
  if (std::getenv("OPENBLAS_CORETYPE") == nullptr) {
    const char* core = better_openblas_core();
    if (core != nullptr && setenv("OPENBLAS_CORETYPE", core, 1) == 0) changed = true;
  }
  if (changed) execv("/proc/self/exe", argv);
}

const char* openmp_wait_policy() {
  const char* policy = std::getenv("OMP_WAIT_POLICY");
  return policy != nullptr ? policy : "active (default)";
}

}  // namespace psy

#include "libpsy/runtime/openmp_wait_policy.h"

#include <cstdlib>
#include <unistd.h>

namespace psy {

void use_passive_openmp_wait_policy(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr) return;
  if (setenv("OMP_WAIT_POLICY", "PASSIVE", 1) != 0) return;
  execv("/proc/self/exe", argv);
  // Still here: the program could not be started again; OpenMP keeps its default policy for this
  // process (its children inherit the passive one).
}

const char* openmp_wait_policy() {
  const char* policy = std::getenv("OMP_WAIT_POLICY");
  return policy != nullptr ? policy : "active (default)";
}

}  // namespace psy

#include "libpsy/runtime/openblas_core.h"

#include <dlfcn.h>

#include <cstring>

#include "libpsy/core/cpu_features.h"

namespace psy {

const char* openblas_core() {
  using CoreName = char* (*)();
  void* symbol = dlsym(RTLD_DEFAULT, "openblas_get_corename");
  if (symbol == nullptr) return nullptr;
  return reinterpret_cast<CoreName>(symbol)();
}

const char* better_openblas_core() {
  const char* running = openblas_core();
  if (running == nullptr || std::strcmp(running, "Prescott") != 0) return nullptr;
  const CpuFeatures& cpu = cpu_features();
  if (cpu.avx512_skylake_x) return "SkylakeX";
  if (cpu.avx2_fma) return "Haswell";
  return nullptr;
}

}  // namespace psy

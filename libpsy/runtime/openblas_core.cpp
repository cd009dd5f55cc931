#include "libpsy/runtime/openblas_core.h"

#include <dlfcn.h>

#include <cstring>

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
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
    return "SkylakeX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
  return nullptr;
}

}  // namespace psy

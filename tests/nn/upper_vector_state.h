// Whether the calling thread's vector registers have their upper halves in use (XINUSE, read with
// XGETBV 1): the state a kernel leaves behind when it returns without VZEROUPPER. On Intel cores,
// SSE code running in that state pays a merge on every instruction; a kernel that skipped it made
// the code around it 1.5-3x slower (bench_few_rows on an Intel Xeon).
#pragma once

#include <cpuid.h>

#include <cstdint>
#include <optional>

namespace psy::test {

// True when the upper 128 bits of YMM0-15 or the upper 256 bits of ZMM0-15 hold data; nullopt
// where the CPU cannot tell (no XGETBV with ECX = 1).
__attribute__((target("xsave"))) inline std::optional<bool> upper_vector_state_dirty() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !(ecx & bit_OSXSAVE)) return std::nullopt;
  if (!__get_cpuid_count(0xD, 1, &eax, &ebx, &ecx, &edx) || !(eax & (1u << 2))) return std::nullopt;
  uint32_t low = 0, high = 0;
  __asm__ volatile("xgetbv" : "=a"(low), "=d"(high) : "c"(1));
  constexpr uint32_t kYmmHi128 = 1u << 2, kZmmHi256 = 1u << 6;
  return (low & (kYmmHi128 | kZmmHi256)) != 0;
}

}  // namespace psy::test

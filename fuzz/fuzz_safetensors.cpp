// libFuzzer target for the safetensors header parser (LibTorch-free). Any input must either
// parse into a header whose tensors lie inside the data section without overlap, or throw
// psy::Error; never crash, hang, or allocate without bound. Build and run with fuzz/run.sh.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "libpsy/core/error.h"
#include "libpsy/io/safetensors_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    psy::SafetensorsHeader h = psy::parse_safetensors_header(data, size, "fuzz.safetensors");
    uint64_t end = 0;
    for (const auto& t : h.tensors) {
      if (t.begin != end || t.end > h.data_size) std::abort();  // the validator let a bad layout through
      if (t.numel() * psy::safetensors_itemsize(t.dtype) != t.nbytes()) std::abort();
      end = t.end;
    }
    if (end != h.data_size || h.data_start + h.data_size != size) std::abort();
  } catch (const psy::Error&) {
  }
  return 0;
}

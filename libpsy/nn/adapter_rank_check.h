// A PEFT adapter whose adapter_config.json `r` disagrees with its tensors would load with the wrong
// scaling (alpha / r) and silently change the model: refused in one line naming both.
#pragma once
#include <cstdint>
#include <string>

#include "libpsy/io/safetensors.h"

namespace psy {

// Every lora_A weight must be [r, in] and every lora_B weight [out, r], with `r` the rank
// adapter_config.json in `dir` gives. Throws psy::Error (exit code 2) naming the config, the
// tensor and both ranks.
void check_adapter_rank(const SafetensorsReader& reader, int64_t r, const std::string& dir);

}  // namespace psy

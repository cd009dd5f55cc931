// PEFT LoRA adapters on disk: adapter_config.json + adapter_model.safetensors, tensors named
// base_model.model.<module path>.lora_A.weight [r, in] and .lora_B.weight [out, r].
// save_peft_adapter writes exactly the files PEFT writes (loadable by PEFT unchanged);
// load_peft_adapter installs an adapter onto the decoder's projections.
#pragma once
#include <string>
#include <vector>

#include "libpsy/nn/decoder.h"

namespace psy {

struct PeftAdapterConfig {
  int64_t r = 8;
  double lora_alpha = 16;
  double lora_dropout = 0.0;
  bool use_rslora = false;
  std::vector<std::string> target_modules;  // last path components, e.g. "q_proj", "lm_head"
  std::string base_model_name_or_path;
};

// Reads DIR/adapter_config.json. Refuses (psy::Error naming the field) what psy cannot apply:
// peft_type other than LORA, use_dora, bias != "none", fan_in_fan_out, non-empty
// rank_pattern/alpha_pattern, modules_to_save.
PeftAdapterConfig load_peft_adapter_config(const std::string& dir);

// Loads DIR's adapter onto `decoder`'s projections (replacing adapters there). Every tensor must
// name a projection of the decoder with fitting shapes. Returns the number of projections adapted.
int load_peft_adapter(DecoderImpl& decoder, const std::string& dir);

// Writes the adapters of every projection that has one. All must share r, alpha, dropout and
// rsLoRA (PEFT's single-config form). Creates DIR.
void save_peft_adapter(const DecoderImpl& decoder, const std::string& dir, const std::string& base_model_path);

// The PEFT tensor key of a projection path and a part ("lora_A" / "lora_B").
std::string peft_tensor_key(const std::string& module_path, const std::string& part);

}  // namespace psy

#include "libpsy/nn/adapter_rank_check.h"

#include "libpsy/core/error.h"

namespace psy {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

void check_adapter_rank(const SafetensorsReader& reader, int64_t r, const std::string& dir) {
  for (const auto& name : reader.names()) {
    const bool a = ends_with(name, ".lora_A.weight") || ends_with(name, ".lora_A.default.weight");
    const bool b = ends_with(name, ".lora_B.weight") || ends_with(name, ".lora_B.default.weight");
    if (!a && !b) continue;
    const std::vector<int64_t> shape = reader.shape(name);
    if (shape.size() != 2) {
      throw Error(reader.path() + ": tensor '" + name + "': " +
                  expected_found("a 2-D LoRA weight", shape_text(shape)));
    }
    const int64_t rank = a ? shape[0] : shape[1];
    if (rank != r) {
      ErrorLocation at;
      at.file = dir + "/adapter_config.json";
      at.field = "r";
      throw Error(at, "says " + std::to_string(r) + ", but tensor '" + name + "' in adapter_model.safetensors has rank " +
                          std::to_string(rank) + " (shape " + shape_text(shape) + ")");
    }
  }
}

}  // namespace psy

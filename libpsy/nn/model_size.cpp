#include "libpsy/nn/model_size.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "libpsy/core/error.h"

namespace psy {

namespace {

std::string gigabytes(double bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f GB", bytes / 1e9);
  return buf;
}

}  // namespace

double estimate_decoder_parameters(const DecoderConfig& c) {
  const double hidden = static_cast<double>(c.hidden_size);
  const double head_dim = c.head_dim > 0 ? static_cast<double>(c.head_dim)
                                         : (c.num_attention_heads > 0 ? hidden / static_cast<double>(c.num_attention_heads) : 0);
  const double heads = static_cast<double>(c.num_attention_heads);
  const double kv_heads = static_cast<double>(c.num_key_value_heads > 0 ? c.num_key_value_heads : c.num_attention_heads);
  const double attention = hidden * heads * head_dim * 2 + hidden * kv_heads * head_dim * 2;  // q, o; k, v
  const double mlp = 3 * hidden * static_cast<double>(c.intermediate_size);                   // gate, up, down
  const double norms = 2 * hidden + (c.sandwich_norms ? 2 * hidden : 0) + (c.qk_norm ? 2 * head_dim : 0);
  const double layer = attention + mlp + norms;
  const double embed = static_cast<double>(c.vocab_size) * hidden;
  return embed + static_cast<double>(c.num_hidden_layers) * layer + hidden + (c.tie_word_embeddings ? 0 : embed);
}

uint64_t available_host_memory_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("MemAvailable:", 0) != 0) continue;
    std::istringstream fields(line.substr(13));
    uint64_t kb = 0;
    if (fields >> kb) return kb * 1024;
  }
  return 0;
}

void check_decoder_fits(const DecoderConfig& c, int bytes_per_weight, uint64_t available_bytes, const std::string& where) {
  struct Ceiling {
    const char* key;
    int64_t value;
    int64_t max;
  };
  for (const Ceiling& k : {Ceiling{"vocab_size", c.vocab_size, int64_t{1} << 24},
                           Ceiling{"hidden_size", c.hidden_size, int64_t{1} << 17},
                           Ceiling{"intermediate_size", c.intermediate_size, int64_t{1} << 20},
                           Ceiling{"num_hidden_layers", c.num_hidden_layers, int64_t{1} << 12},
                           Ceiling{"num_attention_heads", c.num_attention_heads, int64_t{1} << 12},
                           Ceiling{"num_key_value_heads", c.num_key_value_heads, int64_t{1} << 12},
                           Ceiling{"head_dim", c.head_dim, int64_t{1} << 14}}) {
    if (k.value < 0 || k.value > k.max) {
      ErrorLocation at;
      at.file = where;
      at.field = k.key;
      throw Error(at, expected_found("at most " + std::to_string(k.max) + " (no model psy runs is larger)",
                                     std::to_string(k.value)));
    }
  }
  if (available_bytes == 0) return;
  const double params = estimate_decoder_parameters(c);
  const double bytes = params * bytes_per_weight;
  if (bytes > static_cast<double>(available_bytes)) {
    char count[32];
    std::snprintf(count, sizeof count, "%.2fB", params / 1e9);
    throw Error(where + ": the model's weights need about " + gigabytes(bytes) + " (" + count + " parameters, " +
                    std::to_string(bytes_per_weight) + " bytes each), more than the " +
                    gigabytes(static_cast<double>(available_bytes)) +
                    " of memory available: use a smaller model, a 16-bit dtype, or a machine with more memory",
                kExitFailure);
  }
}

void check_decoder_fits_host(const DecoderConfig& c, int bytes_per_weight, bool on_cpu, const std::string& where) {
  check_decoder_fits(c, bytes_per_weight, on_cpu ? available_host_memory_bytes() : 0, where);
}

}  // namespace psy

#include "libpsy/dist/memory_plan.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

#include "libpsy/core/error.h"

namespace psy::dist {

namespace {

struct Linear {
  std::string name;
  int64_t in, out;
};

int64_t kv_dim(const DecoderConfig& m) { return m.num_key_value_heads * m.head_dim; }
int64_t q_dim(const DecoderConfig& m) { return m.num_attention_heads * m.head_dim; }

std::vector<Linear> layer_linears(const DecoderConfig& m) {
  const int64_t H = m.hidden_size, I = m.intermediate_size;
  std::vector<Linear> out = {{"q_proj", H, q_dim(m)}, {"k_proj", H, kv_dim(m)}, {"v_proj", H, kv_dim(m)},
                             {"o_proj", q_dim(m), H}};
  if (m.fused_gate_up) {
    out.push_back({"gate_up_proj", H, 2 * I});  // GLM
  } else {
    out.push_back({"gate_proj", H, I});
    out.push_back({"up_proj", H, I});
  }
  out.push_back({"down_proj", I, H});
  return out;
}

// A layer's parameters outside the linears' weight matrices: RMSNorm weights (two, four with
// GLM-4-0414's sandwich, plus Qwen3's per-head q/k norms) and biases.
int64_t layer_small_count(const DecoderConfig& m) {
  int64_t n = (m.sandwich_norms ? 4 : 2) * m.hidden_size + (m.qk_norm ? 2 * m.head_dim : 0);
  if (m.qkv_bias) n += q_dim(m) + 2 * kv_dim(m);
  if (m.o_bias) n += m.hidden_size;
  if (m.mlp_bias) n += 2 * m.intermediate_size + m.hidden_size;
  return n;
}

bool targeted(const std::vector<std::string>& targets, const std::string& name) {
  for (const auto& t : targets)
    if (t == name || t == "all-linear" || t == "all_linear") return name != "lm_head" || t == name;
  return false;
}

int64_t layer_weight_count(const DecoderConfig& m) {
  int64_t n = layer_small_count(m);
  for (const auto& l : layer_linears(m)) n += l.in * l.out;
  return n;
}

int64_t layer_lora_count(const DecoderConfig& m, int r, const std::vector<std::string>& targets) {
  int64_t n = 0;
  for (const auto& l : layer_linears(m))
    if (targeted(targets, l.name)) n += static_cast<int64_t>(r) * (l.in + l.out);
  return n;
}

int64_t head_lora_count(const DecoderConfig& m, int r, const std::vector<std::string>& targets) {
  return targeted(targets, "lm_head") ? static_cast<int64_t>(r) * (m.hidden_size + m.vocab_size) : 0;
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

int64_t nf4_bytes(int64_t n, bool dq) {
  const int64_t blocks = ceil_div(n, 64);
  return blocks * 32 + (dq ? blocks + ceil_div(blocks, 256) * 4 + 4 : blocks * 4);
}

// Bytes autograd keeps per token for one layer (see the header), and for LoRA inputs. Counted
// from the decoder's ops: two RMSNorms (input, normalised, output: 3 x H each), q/k with RoPE
// (q, rotate_half(q), rotated: 3 x each of q and k), v, the attention output, the MLP
// (gate, up, silu(gate), product: 4 x I); then attention's own state: with the fused kernel one
// fp32 log-sum-exp per head, with eager attention the fp32 softmax probabilities plus their cast
// to the activation dtype. LoRA per targeted linear: on a CPU the fp32 copy of its input, the
// dropout output (fp32) and mask, and the fp32 A output; on a GPU the same in the activation
// dtype, so no copy of the input when there is no dropout.
int64_t layer_activation_bytes_per_token(const MemoryPlanInput& in) {
  const auto& m = in.model;
  const int64_t a = in.compute_bytes, H = m.hidden_size, I = m.intermediate_size;
  int64_t bytes = a * (6 * H + 3 * q_dim(m) + q_dim(m) + 4 * kv_dim(m) + 4 * I);
  if (in.fused_attention)
    bytes += 4 * m.num_attention_heads;
  else
    bytes += (a == 4 ? 4 : 4 + a) * m.num_attention_heads * in.seq_len;  // one row of probabilities per token and head
  const int64_t lora_a = in.cuda ? a : 4;  // LoRA compute dtype
  if (!in.full_finetune)
    for (const auto& l : layer_linears(m))
      if (targeted(in.lora_targets, l.name))
        bytes += (lora_a == a ? 0 : lora_a * l.in) + lora_a * in.lora_r + (in.lora_dropout > 0 ? (lora_a + 1) * l.in : 0);
  return bytes;
}

// The head: fp32 logits, the shifted copy the loss flattens, its log-softmax, and in backward
// the gradients of the last two (the peak of a step).
int64_t head_activation_bytes_per_token(const MemoryPlanInput& in) {
  const auto& m = in.model;
  return 5 * 4 * m.vocab_size + in.compute_bytes * 2 * m.hidden_size +
         (targeted(in.lora_targets, "lm_head") ? 4 * (m.hidden_size + in.lora_r) : 0);
}

struct Parts {
  std::vector<int64_t> layer_bytes;  // weights + trainable state per layer
  int64_t embed = 0, head = 0;
};

}  // namespace

int64_t DeviceMemory::train_total() const {
  return weights + lora + optimizer + (checkpointing ? activations_checkpointed : activations_full) + overhead;
}
int64_t DeviceMemory::eval_total() const { return weights + lora / 2 + kv_cache + overhead; }

int64_t base_parameter_count(const DecoderConfig& m) {
  const int64_t embed = m.vocab_size * m.hidden_size;
  return embed + (m.tie_word_embeddings ? 0 : embed) + m.hidden_size + m.num_hidden_layers * layer_weight_count(m);
}

int64_t lora_parameter_count(const DecoderConfig& m, int r, const std::vector<std::string>& targets) {
  return m.num_hidden_layers * layer_lora_count(m, r, targets) + head_lora_count(m, r, targets);
}

int64_t nf4_base_bytes(const DecoderConfig& m, int other_weight_bytes, bool double_quant) {
  int64_t linear = 0;
  for (const auto& l : layer_linears(m)) linear += nf4_bytes(l.in * l.out, double_quant);
  const int64_t others = base_parameter_count(m) - m.num_hidden_layers * (layer_weight_count(m) - layer_small_count(m));
  return m.num_hidden_layers * linear + others * other_weight_bytes;
}

DeviceMemory estimate_single(const MemoryPlanInput& in, bool nf4) {
  const auto& m = in.model;
  DeviceMemory d;
  d.checkpointing = in.gradient_checkpointing;
  d.weights = nf4 ? nf4_base_bytes(m, in.weight_bytes, in.double_quant) : base_parameter_count(m) * in.weight_bytes;
  const int64_t trainable = in.full_finetune ? base_parameter_count(m) : lora_parameter_count(m, in.lora_r, in.lora_targets);
  const int64_t trainable_bytes = in.full_finetune ? in.weight_bytes : 4;
  d.lora = trainable * trainable_bytes * (in.full_finetune ? 1 : 2);  // full: gradients only (weights counted)
  d.optimizer = trainable * 8;
  const int64_t tokens = static_cast<int64_t>(in.micro_batch) * in.seq_len;
  const int64_t per_layer = layer_activation_bytes_per_token(in) * tokens;
  const int64_t head = head_activation_bytes_per_token(in) * tokens;
  d.activations_full = m.num_hidden_layers * per_layer + head;
  d.activations_checkpointed = m.num_hidden_layers * in.compute_bytes * m.hidden_size * tokens + per_layer + head;
  d.kv_cache = 2 * m.num_hidden_layers * kv_dim(m) * in.compute_bytes * in.eval_batch * in.eval_len;
  d.overhead = in.cuda ? 750'000'000LL : 300'000'000LL;
  return d;
}

namespace {

// Contiguous cut of layers into stages minimising the largest stage (same rule as
// plan_layer_split in libpsy/nn/placement.h).
std::vector<int> balanced_stages(const std::vector<int64_t>& layer, int64_t first_extra, int64_t last_extra, int stages) {
  const int n = static_cast<int>(layer.size());
  stages = std::max(1, std::min(stages, n));
  const int64_t inf = std::numeric_limits<int64_t>::max();
  std::vector<std::vector<int64_t>> best(static_cast<size_t>(stages) + 1, std::vector<int64_t>(static_cast<size_t>(n) + 1, inf));
  std::vector<std::vector<int>> cut(best.size(), std::vector<int>(static_cast<size_t>(n) + 1, 0));
  best[0][0] = 0;
  for (int s = 1; s <= stages; ++s)
    for (int i = s; i <= n; ++i) {
      int64_t cost = 0;
      for (int j = i - 1; j >= s - 1; --j) {
        cost += layer[static_cast<size_t>(j)];
        if (best[static_cast<size_t>(s - 1)][static_cast<size_t>(j)] == inf) continue;
        int64_t c = cost + (s == 1 ? first_extra : 0) + (s == stages ? last_extra : 0);
        int64_t v = std::max(best[static_cast<size_t>(s - 1)][static_cast<size_t>(j)], c);
        if (v < best[static_cast<size_t>(s)][static_cast<size_t>(i)]) {
          best[static_cast<size_t>(s)][static_cast<size_t>(i)] = v;
          cut[static_cast<size_t>(s)][static_cast<size_t>(i)] = j;
        }
      }
    }
  std::vector<int> out(static_cast<size_t>(stages));
  int end = n;
  for (int s = stages; s >= 1; --s) {
    out[static_cast<size_t>(s - 1)] = end - cut[static_cast<size_t>(s)][static_cast<size_t>(end)];
    end = cut[static_cast<size_t>(s)][static_cast<size_t>(end)];
  }
  return out;
}

DeviceMemory layer_split_worst(const MemoryPlanInput& in, int stages) {
  const auto& m = in.model;
  const DeviceMemory whole = estimate_single(in, false);
  const int64_t L = m.num_hidden_layers;
  // Split every component proportionally to the layers a stage holds; embeddings on the first
  // stage, norm + lm_head (and the logits) on the last.
  const int64_t embed_w = m.vocab_size * m.hidden_size * in.weight_bytes;
  const int64_t head_w = (m.tie_word_embeddings ? 0 : embed_w) + m.hidden_size * in.weight_bytes;
  const int64_t layer_w = layer_weight_count(m) * in.weight_bytes;
  const int64_t head_lora = head_lora_count(m, in.lora_r, in.lora_targets) * 16;  // param + grad + 2 moments
  const int64_t layer_lora = layer_lora_count(m, in.lora_r, in.lora_targets) * 16;
  const int64_t tokens = static_cast<int64_t>(in.micro_batch) * in.seq_len;
  const int64_t per_layer_act = layer_activation_bytes_per_token(in) * tokens;
  const int64_t head_act = head_activation_bytes_per_token(in) * tokens;
  const int64_t layer_act = in.gradient_checkpointing ? in.compute_bytes * m.hidden_size * tokens : per_layer_act;
  std::vector<int64_t> layer_bytes(static_cast<size_t>(L), layer_w + layer_lora);
  std::vector<int> per_stage = balanced_stages(layer_bytes, embed_w, head_w + head_lora, stages);
  DeviceMemory worst;
  int64_t worst_total = -1;
  for (size_t s = 0; s < per_stage.size(); ++s) {
    const int64_t n = per_stage[s];
    DeviceMemory d;
    d.checkpointing = in.gradient_checkpointing;
    d.weights = n * layer_w + (s == 0 ? embed_w : 0) + (s + 1 == per_stage.size() ? head_w : 0);
    const int64_t lora_params = n * layer_lora / 16 + (s + 1 == per_stage.size() ? head_lora / 16 : 0);
    d.lora = lora_params * 8;
    d.optimizer = lora_params * 8;
    const int64_t acts_full = n * per_layer_act + (s + 1 == per_stage.size() ? head_act : 0);
    const int64_t acts_ckpt = n * in.compute_bytes * m.hidden_size * tokens + per_layer_act +
                              (s + 1 == per_stage.size() ? head_act : 0);
    d.activations_full = acts_full;
    d.activations_checkpointed = acts_ckpt;
    d.kv_cache = whole.kv_cache * n / L;
    d.overhead = whole.overhead;
    (void)layer_act;
    if (d.peak() > worst_total) {
      worst_total = d.peak();
      worst = d;
    }
  }
  return worst;
}

}  // namespace

std::vector<PlanRow> plan_memory(const MemoryPlanInput& in, int devices, int64_t device_bytes) {
  std::vector<PlanRow> rows;
  auto add = [&](const std::string& mode, int n, DeviceMemory d, const std::string& note) {
    PlanRow r;
    r.mode = mode;
    r.devices = n;
    r.worst = d;
    r.fits = d.peak() <= device_bytes;
    r.note = note;
    rows.push_back(r);
  };
  const std::string nd = std::to_string(devices);
  add("single", 1, estimate_single(in, false), "one device");
  DeviceMemory dp = estimate_single(in, false);
  dp.overhead += 2 * (25LL << 20);
  if (devices > 1) add("data x" + nd, devices, dp, "each rank holds the whole model; global batch x" + nd);
  if (devices > 1) add("layers x" + nd, devices, layer_split_worst(in, devices), "devices.parallel: layers (fullest device shown)");
  add("nf4", 1, estimate_single(in, true), std::string("model.quantization: nf4") + (in.double_quant ? " (double quantisation)" : ""));
  if (devices > 1) {
    DeviceMemory q = estimate_single(in, true);
    q.overhead += 2 * (25LL << 20);
    add("nf4 + data x" + nd, devices, q, "QLoRA on every rank");
  }
  return rows;
}

void parse_devices_spec(const std::string& spec, int* count, int64_t* bytes) {
  std::string s = spec;
  int n = 1;
  const auto x = s.find('x');
  if (x != std::string::npos) {
    try {
      n = std::stoi(s.substr(0, x));
    } catch (const std::exception&) {
      n = 0;
    }
    s = s.substr(x + 1);
  }
  double unit = 0;
  std::string number = s;
  for (const auto& [suffix, value] : std::vector<std::pair<std::string, double>>{{"GiB", 1073741824.0}, {"GB", 1e9}, {"G", 1e9}, {"MiB", 1048576.0}, {"MB", 1e6}}) {
    if (s.size() > suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0) {
      unit = value;
      number = s.substr(0, s.size() - suffix.size());
      break;
    }
  }
  double amount = 0;
  try {
    size_t used = 0;
    amount = std::stod(number, &used);
    if (used != number.size()) amount = 0;
  } catch (const std::exception&) {
    amount = 0;
  }
  if (n < 1 || unit == 0 || amount <= 0)
    throw Error("--devices: " + expected_found("COUNTxSIZE such as 2x24GB, 1x80GB or 4x24GiB", "'" + spec + "'"));
  *count = n;
  *bytes = static_cast<int64_t>(amount * unit);
}

DecoderConfig known_model_shape(const std::string& name) {
  DecoderConfig c;
  c.model_type = "llama";
  c.vocab_size = 32000;
  c.hidden_size = 4096;
  c.intermediate_size = 11008;
  c.num_hidden_layers = 32;
  c.num_attention_heads = 32;
  c.num_key_value_heads = 32;
  c.head_dim = 128;
  c.rms_norm_eps = 1e-5;
  c.bos_token_id = 1;
  c.eos_token_ids = {2};
  c.torch_dtype = "bfloat16";
  if (name == "mistral-7b" || name == "mistral-7b-v0.3") {  // Mistral-7B-(Instruct-)v0.2 / v0.3
    c.model_type = "mistral";
    c.intermediate_size = 14336;
    c.num_key_value_heads = 8;
    c.max_position_embeddings = 32768;
    c.rope_theta = 1e6;
    if (name == "mistral-7b-v0.3") c.vocab_size = 32768;
    return c;
  }
  if (name == "llama-2-7b") return c;
  if (name == "llama-2-13b") {
    c.hidden_size = 5120;
    c.intermediate_size = 13824;
    c.num_hidden_layers = 40;
    c.num_attention_heads = 40;
    c.num_key_value_heads = 40;
    return c;
  }
  if (name == "llama-3.1-8b") {  // Llama-3.1-8B(-Instruct)
    c.vocab_size = 128256;
    c.intermediate_size = 14336;
    c.num_key_value_heads = 8;
    c.max_position_embeddings = 131072;
    c.rope_theta = 500000.0;
    c.rope_scaling = RopeScalingType::Llama3;
    c.rope_scaling_factor = 8.0;
    c.rope_low_freq_factor = 1.0;
    c.rope_high_freq_factor = 4.0;
    c.rope_original_max_position_embeddings = 8192;
    c.bos_token_id = 128000;
    c.eos_token_ids = {128001, 128008, 128009};
    return c;
  }
  if (name == "qwen2.5-7b" || name == "qwen3-8b") {  // Qwen2.5-7B(-Instruct), Qwen3-8B
    const bool q3 = name == "qwen3-8b";
    c.model_type = q3 ? "qwen3" : "qwen2";
    apply_family_traits(c);
    c.vocab_size = q3 ? 151936 : 152064;
    c.hidden_size = q3 ? 4096 : 3584;
    c.intermediate_size = q3 ? 12288 : 18944;
    c.num_hidden_layers = q3 ? 36 : 28;
    c.num_attention_heads = q3 ? 32 : 28;
    c.num_key_value_heads = q3 ? 8 : 4;
    c.max_position_embeddings = q3 ? 40960 : 32768;
    c.rope_theta = 1e6;
    c.rms_norm_eps = 1e-6;
    c.bos_token_id = 151643;
    c.eos_token_ids = {151645};
    return c;
  }
  if (name == "glm-4-9b") {  // GLM-4-9B-chat-hf (GlmForCausalLM)
    c.model_type = "glm";
    apply_family_traits(c);
    c.vocab_size = 151552;
    c.intermediate_size = 13696;
    c.num_hidden_layers = 40;
    c.num_key_value_heads = 2;
    c.partial_rotary_factor = 0.5;
    c.qkv_bias = true;
    c.max_position_embeddings = 131072;
    c.rms_norm_eps = 1.5625e-07;
    c.bos_token_id.reset();
    c.eos_token_ids = {151329, 151336, 151338};
    c.pad_token_id = 151329;
    return c;
  }
  throw Error("--shape: " + expected_found("one of " + known_model_shape_names(), "'" + name + "'"));
}

std::string known_model_shape_names() {
  return "mistral-7b, mistral-7b-v0.3, llama-2-7b, llama-2-13b, llama-3.1-8b, qwen2.5-7b, qwen3-8b, glm-4-9b";
}

std::string format_bytes(int64_t bytes) {
  char buf[32];
  const double b = static_cast<double>(bytes);
  if (b >= 1e9)
    std::snprintf(buf, sizeof buf, "%.2f GB", b / 1e9);
  else
    std::snprintf(buf, sizeof buf, "%.1f MB", b / 1e6);
  return buf;
}

std::string format_plan(const std::vector<PlanRow>& rows, int64_t device_bytes) {
  std::ostringstream out;
  char line[512];
  std::snprintf(line, sizeof line, "%-16s %10s %10s %10s %12s %12s %10s %10s %11s  %s\n", "mode", "weights", "lora+grad",
                "optimizer", "act(ckpt)", "act(full)", "kv(eval)", "overhead", "peak/device", "fits");
  out << line;
  for (const auto& r : rows) {
    const auto& d = r.worst;
    std::snprintf(line, sizeof line, "%-16s %10s %10s %10s %12s %12s %10s %10s %11s  %s  (%s)\n", r.mode.c_str(),
                  format_bytes(d.weights).c_str(), format_bytes(d.lora).c_str(), format_bytes(d.optimizer).c_str(),
                  format_bytes(d.activations_checkpointed).c_str(), format_bytes(d.activations_full).c_str(),
                  format_bytes(d.kv_cache).c_str(), format_bytes(d.overhead).c_str(), format_bytes(d.peak()).c_str(),
                  r.fits ? "yes" : "no", r.note.c_str());
    out << line;
  }
  out << "peak/device = max(training with " << (rows.empty() || rows[0].worst.checkpointing ? "" : "no ")
      << "gradient checkpointing, evaluation); device size " << format_bytes(device_bytes) << "\n";
  return out.str();
}

}  // namespace psy::dist

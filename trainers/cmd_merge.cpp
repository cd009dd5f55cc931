// psy merge: fold a LoRA adapter into its base model and write a Hugging Face checkpoint.
#include <filesystem>
#include <iostream>
#include <optional>

#include <nlohmann/json.hpp>

#include "libpsy/core/atomic_file.h"
#include "libpsy/core/cli_args.h"
#include "libpsy/core/error.h"
#include "libpsy/core/file_lock.h"
#include "libpsy/io/hf_config.h"
#include "libpsy/io/safetensors.h"
#include "libpsy/nn/load_decoder.h"
#include "libpsy/nn/peft_adapter_io.h"
#include "libpsy/run/run_folder.h"
#include "libpsy/runtime/runtime.h"
#include "trainers/model_args.h"
#include "trainers/commands.h"

namespace fs = std::filesystem;

namespace psy::cli {

namespace {

std::string shard_name(size_t i, size_t n) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "model-%05zu-of-%05zu.safetensors", i + 1, n);
  return buf;
}

// Writes the tensors into shards of at most max_bytes each (a tensor is never split), with
// model.safetensors.index.json when there is more than one; else model.safetensors.
void write_sharded(const std::string& dir, const NamedTensors& tensors, int64_t max_bytes) {
  std::vector<NamedTensors> shards(1);
  int64_t in_shard = 0, total = 0;
  for (const auto& nt : tensors) {
    const int64_t bytes = nt.second.numel() * static_cast<int64_t>(nt.second.element_size());
    if (in_shard > 0 && in_shard + bytes > max_bytes) {
      shards.emplace_back();
      in_shard = 0;
    }
    shards.back().push_back(nt);
    in_shard += bytes;
    total += bytes;
  }
  if (shards.size() == 1) {
    write_safetensors(dir + "/model.safetensors", shards[0], {{"format", "pt"}});
    return;
  }
  nlohmann::ordered_json index;
  index["metadata"] = {{"total_size", total}};
  nlohmann::ordered_json map = nlohmann::ordered_json::object();
  for (size_t i = 0; i < shards.size(); ++i) {
    write_safetensors(dir + "/" + shard_name(i, shards.size()), shards[i], {{"format", "pt"}});
    for (const auto& nt : shards[i]) map[nt.first] = shard_name(i, shards.size());
  }
  index["weight_map"] = map;
  write_file_atomic(dir + "/model.safetensors.index.json", index.dump(2) + "\n");
}

}  // namespace

int cmd_merge(const Args& args) {
  ArgParser p("psy merge",
              "Merge a LoRA adapter (PEFT format) into its base model: W += scaling * B A, written as a\n"
              "Hugging Face checkpoint (config.json, safetensors shards, tokenizer files copied).\n"
              "The adapter: --adapter DIR on --model DIR, or --checkpoint PATH (a run folder, a checkpoint or an\n"
              "adapter; the same option as in psy eval, generate and chat).");
  add_model_source_options(p, "base model folder (Hugging Face layout; with --checkpoint: default the adapter's base)");
  p.option("adapter", "DIR", "adapter folder (adapter_config.json + adapter_model.safetensors)", "")
      .option("out", "DIR", "output folder (created)")
      .option("dtype", "fp32|bf16|fp16|auto", "dtype of the written weights; auto = the base model's", "auto")
      .option("max-shard-mb", "N", "largest shard in MiB", "4096")
      .option("threads", "N", "CPU threads (0 = all cores)", "0");
  auto a = p.parse(args);
  if (a.help_requested()) return std::cout << p.help(), 0;
  if (a.get("out").empty()) throw Error("psy merge: --out is required");
  if (a.get("checkpoint").empty() && a.get("adapter").empty())
    throw Error("psy merge: --adapter DIR or --checkpoint PATH is required");
  const ModelChoice choice = model_choice_from_args(a, "psy merge");
  if (choice.adapter_dir.empty())
    throw Error("psy merge: --checkpoint " + a.get("checkpoint") + " is a whole model (" + choice.model_dir +
                "), not an adapter: nothing to merge");
  // Writing into a run folder (e.g. RUN/merged) takes the run's lock: one writing process per run.
  std::optional<FolderLock> lock;
  const std::string run = enclosing_run_folder(a.get("out"));
  if (!run.empty()) lock.emplace(RunFolder(run).lock("psy merge"));
  set_threads(static_cast<int>(a.get_long("threads")));
  const std::string model_dir = choice.model_dir, out = a.get("out");
  DecoderConfig config = load_decoder_config(model_dir);
  const std::string dtype_name = a.get("dtype") == "auto" ? config.torch_dtype : a.get("dtype");
  // Merge in fp32 (exact for bf16/fp16 bases), then cast once.
  DecoderOptions opt;
  opt.dtype = torch::kFloat32;
  Decoder decoder = load_decoder(model_dir, opt);
  int adapted = load_peft_adapter(*decoder, choice.adapter_dir);
  // Tied embeddings with LoRA on lm_head: merging changes the shared matrix, but only the output
  // head is adapted, so the merged model is written untied (the input embeddings as they were).
  Projection lm_head = nullptr;
  for (auto& [path, proj] : decoder->projections())
    if (path == "lm_head") lm_head = proj;
  const bool tied = decoder->config().tie_word_embeddings;
  const bool untie = tied && lm_head && lm_head->has_lora();
  const void* shared = lm_head ? lm_head->weight.data_ptr() : nullptr;
  const torch::Tensor input_embeddings = untie ? lm_head->weight.detach().clone() : torch::Tensor();
  for (auto& [path, proj] : decoder->projections())
    if (proj->has_lora()) proj->merge_lora();
  const torch::ScalarType out_dtype = parse_model_dtype(dtype_name);
  make_dirs(out);
  NamedTensors tensors;
  for (auto& item : decoder->named_parameters()) {
    if (item.key() == "lm_head.weight" && tied) continue;
    torch::Tensor value = item.value().detach();
    if (untie && value.data_ptr() == shared) value = input_embeddings;
    tensors.emplace_back(item.key(), value.to(out_dtype));
  }
  if (untie) tensors.emplace_back("lm_head.weight", lm_head->weight.detach().to(out_dtype));
  write_sharded(out, tensors, a.get_long("max-shard-mb") * 1024 * 1024);
  DecoderConfig written = decoder->config();
  if (untie) written.tie_word_embeddings = false;
  written.torch_dtype = out_dtype == torch::kBFloat16 ? "bfloat16" : out_dtype == torch::kFloat16 ? "float16" : "float32";
  write_file_atomic(out + "/config.json", decoder_config_to_json(written));
  int copied = 0;
  for (const char* f : {"tokenizer.model", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.json",
                        "generation_config.json"}) {
    fs::path src = fs::path(model_dir) / f;
    if (!fs::exists(src)) continue;
    fs::copy_file(src, fs::path(out) / f, fs::copy_options::overwrite_existing);
    ++copied;
  }
  std::cout << "merged " << adapted << " adapted projections into " << out << " (" << written.torch_dtype << ", "
            << copied << " tokenizer file(s) copied" << (untie ? "; lm_head untied from the input embeddings" : "")
            << ")\n";
  return 0;
}

}  // namespace psy::cli

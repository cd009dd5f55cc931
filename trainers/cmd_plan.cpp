// psy plan: estimated memory per device for a recipe, for each way of running it (one device,
// data parallel, layer split, NF4, NF4 + data parallel), and which fit.
#include <filesystem>
#include <iostream>

#include "libpsy/core/cli_args.h"
#include "libpsy/core/error.h"
#include "libpsy/dist/memory_plan.h"
#include "libpsy/nn/attention.h"
#include "libpsy/io/hf_config.h"
#include "libpsy/recipe/recipe.h"
#include "trainers/commands.h"

namespace psy::cli {

namespace {

int dtype_bytes(WeightDtype dtype) { return dtype == WeightDtype::Fp32 ? 4 : 2; }

}  // namespace

int cmd_plan(const Args& args) {
  ArgParser p("psy plan", "Estimate memory per device for a recipe: weights, LoRA parameters and gradients, optimiser "
                          "state, activations with and without gradient checkpointing, and the KV cache for "
                          "evaluation, for one device, data parallel, layer split and NF4; says which fit.");
  p.positional("RECIPE", "YAML recipe file")
      .positional("OVERRIDES", "key.path=value assignments applied after the file", false, true)
      .option("devices", "COUNTxSIZE", "the devices to plan for, e.g. 2x24GB, 1x80GB, 4x24GiB", "2x24GB")
      .option("shape", "NAME", "use a built-in model shape instead of <model.path>/config.json: " +
                                   dist::known_model_shape_names(), "")
      .option("cpu", "yes|no", "the devices are CPU memory (smaller runtime overhead)", "no")
      .option("attention", "auto|fused|eager",
              "attention kernel to plan for: fused (LibTorch >= 2.0) keeps no [heads, T, T] probabilities; "
              "auto = fused on GPUs, this build's kernel on CPU", "auto")
      .flag("no-double-quant", "plan NF4 without double quantisation of the scales");
  auto a = p.parse(args);
  if (a.help_requested()) return std::cout << p.help(), 0;
  Recipe r = load_recipe(a.get("RECIPE"), a.list("OVERRIDES"));
  int count = 0;
  int64_t bytes = 0;
  dist::parse_devices_spec(a.get("devices"), &count, &bytes);

  dist::MemoryPlanInput in;
  std::string source;
  if (!a.get("shape").empty()) {
    in.model = dist::known_model_shape(a.get("shape"));
    source = "built-in shape " + a.get("shape");
  } else {
    const std::string config = r.model.path + "/config.json";
    if (!std::filesystem::exists(config))
      throw Error("psy plan: model.path '" + r.model.path + "' has no config.json; give --shape NAME (" +
                  dist::known_model_shape_names() + ") to plan without the weights");
    in.model = load_decoder_config(config);
    source = config;
  }
  in.weight_bytes = dtype_bytes(r.model.dtype);
  in.compute_bytes = dtype_bytes(r.compute_dtype());
  in.double_quant = !a.flag("no-double-quant");
  in.full_finetune = r.train.mode == TrainMode::Full;
  in.lora_r = r.lora.r;
  in.lora_targets = r.lora.targets;
  in.lora_dropout = r.lora.dropout;
  in.micro_batch = r.train.micro_batch;
  in.seq_len = r.data.max_seq_len;
  in.gradient_checkpointing = r.train.gradient_checkpointing;
  in.eval_batch = r.eval.batch_size;
  in.eval_len = r.data.max_seq_len + r.eval.max_new_tokens;
  in.cuda = a.get("cpu") != "yes";
  const std::string attention = a.get("attention");
  if (attention != "auto" && attention != "fused" && attention != "eager")
    throw Error("psy plan: --attention " + expected_found("auto, fused or eager", "'" + attention + "'"));
  in.fused_attention = attention == "auto" ? (in.cuda || fused_attention_available()) : attention == "fused";

  const auto rows = dist::plan_memory(in, count, bytes);
  std::cout << "psy plan: " << r.name << " on " << count << " x " << dist::format_bytes(bytes) << " ("
            << source << ": " << in.model.num_hidden_layers << " layers, hidden " << in.model.hidden_size << ", "
            << dist::base_parameter_count(in.model) / 1000000 << "M parameters; LoRA r " << in.lora_r << ": "
            << dist::lora_parameter_count(in.model, in.lora_r, in.lora_targets) / 1000000.0 << "M; micro-batch "
            << in.micro_batch << " x " << in.seq_len << " tokens; " << (in.fused_attention ? "fused" : "eager")
            << " attention)\n\n";
  std::cout << dist::format_plan(rows, bytes);
  return 0;
}

}  // namespace psy::cli

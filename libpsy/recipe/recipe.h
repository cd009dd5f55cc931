// A recipe: one YAML file per experiment, validated into typed sections. Every key has a
// default and a one-line doc (see recipe_schema.cpp); unknown keys are errors listing the valid
// ones; wrong types name the key path and the expected type. `psy recipe show` prints the
// resolved recipe. To add a key: add the member here and one `field(...)` line in
// recipe_schema.cpp.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "libpsy/recipe/recipe_choices.h"

namespace psy {

struct ModelSection {
  std::string path;                       // Hugging Face folder (config.json, *.safetensors, tokenizer.json or .model)
  WeightDtype dtype = WeightDtype::Fp32;  // fp32 | bf16 | fp16
  std::string chat_template = "mistral";  // auto (the folder's own Jinja template) | mistral | llama2 | chatml | plain
  std::string tokenizer;                  // tokenizer.json / tokenizer.model or their folder; "" = the model folder
  Quantization quantization = Quantization::None;  // none | nf4
};

struct LoraSection {
  int r = 8;
  double alpha = 16;
  double dropout = 0.05;
  std::vector<std::string> targets = {"q_proj", "k_proj", "v_proj", "o_proj"};  // or [all-linear]
  bool rslora = false;
  std::string init_adapter;  // a PEFT adapter folder to start from; "" = a fresh init from the seed
};

struct DataSection {
  std::vector<std::string> path;           // one or more Psy-Insight JSON / JSONL files
  std::string lang = "en";                 // en | zh
  std::string task = "observation_reasoning_dialog";  // dialog | reasoning_dialog | observation_reasoning_dialog | mix
  DataUnit unit = DataUnit::Turn;          // turn | session
  double test_fraction = 0.15;
  int max_seq_len = 4096;
  double prompt_loss_weight = 0.0;
  std::map<std::string, double> section_weights = {{"observation", 1.0}, {"reasoning", 1.0}, {"response", 1.0}};
  MissingAnnotation missing_annotation = MissingAnnotation::SkipSection;  // skip_section | placeholder | drop_sample
  std::vector<std::string> context = {"background"};  // session fields in the input: background guide topic psychotherapy theme
  std::string instruction;                  // "" = the language's default instruction
  std::map<std::string, std::string> markers;  // overrides of section markers, e.g. {observation: "Observation:"}
  std::vector<std::string> mix_tasks = {"dialog", "reasoning_dialog", "observation_reasoning_dialog", "emotion",
                                        "strategy", "psychotherapy", "topic"};
  OnError on_error = OnError::Stop;         // stop | skip (unusable sessions)
  ReasoningSlot reasoning_slot = ReasoningSlot::Content;  // content | think (observation + reasoning in reasoning_content)
  // Retrieval for task rag_dialog / rag_dialog_explanation (libpsy/data/retrieval_prompt.h).
  std::string retrieval_encoder;            // sentence encoder folder (e.g. all-MiniLM-L6-v2, a multilingual one for zh)
  int retrieval_k = 3;                      // similar training cases per prompt
  std::vector<std::string> retrieval_fields = {"topic", "guide", "summary"};
  std::vector<std::string> retrieval_index_fields = {"background", "summary"};
  int retrieval_query_turns = 4;            // recent turns in the query (after the background)
  int retrieval_max_tokens = 1024;          // token budget of the retrieved text per prompt
};

struct TrainSection {
  TrainMode mode = TrainMode::Lora;        // lora | full
  double epochs = 1;
  long max_steps = 0;                      // > 0 overrides epochs
  int micro_batch = 1;
  int grad_accum = 1;
  double lr = 2e-4;
  ScheduleKind schedule = ScheduleKind::Cosine;  // constant | linear | cosine
  double warmup_ratio = 0.0;
  long warmup_steps = 0;                   // > 0 overrides warmup_ratio
  double min_lr_ratio = 0.0;               // floor of the schedule, as a fraction of lr
  double weight_decay = 0.0;
  double max_grad_norm = 1.0;              // 0 = no clipping
  LossDenominator plw_normalization = LossDenominator::WeightSum;  // weight_sum | nonzero_tokens
  WeightDtype precision = WeightDtype::Fp32;  // fp32 | bf16 | fp16 (autocast-style compute dtype)
  bool gradient_checkpointing = false;
  bool group_by_length = true;
  bool shuffle = true;                     // false: the split's order, as psy data build --export writes it
  bool packing = false;
  bool padding_free = true;                // a micro-batch's samples in one row, no padding (same loss)
  long save_every = 0;                     // steps; 0 = only at the end
  int keep_last = 2;
  long eval_every = 0;                     // steps; 0 = only at the end
  int early_stop_patience = 0;             // evaluations without improvement; 0 = off
  NanPolicy nan_policy = NanPolicy::Stop;  // stop | skip
  long log_every = 1;
  bool tensorboard = false;
};

struct DevicesSection {
  std::vector<DeviceName> use = {DeviceName{}};  // e.g. [cuda:0, cuda:1]; never empty after validation
  ParallelMode parallel = ParallelMode::None;  // none | data | layers
  std::vector<int> split;                  // layers per device for parallel: layers; empty = balanced
};

// eval.judge: score the predictions with a local chat model and rubric files (libpsy/judge).
struct JudgeSection {
  std::string model;                       // the judge's Hugging Face chat model folder; "" = no judge
  std::vector<std::string> rubrics = {"rubrics/cpsycoun.yaml"};
  std::string chat_template = "auto";      // auto | mistral | llama2 | chatml | plain | none
  WeightDtype dtype = WeightDtype::Fp32;
  int max_new_tokens = 64;
  double temperature = 0;                  // 0 = greedy
  int batch_size = 4;
  long max_history_chars = 6000;           // the history shown is cut to its last N bytes; 0 = whole
};

struct EvalSection {
  int max_new_tokens = 256;
  Decoding decoding = Decoding::Greedy;    // greedy | sample
  double temperature = 1.0;
  int top_k = 0;
  double top_p = 1.0;
  double repetition_penalty = 1.0;
  int batch_size = 8;
  long prefix_cache_mb = 512;              // prompts' keys/values kept for reuse by later prompts; 0 = off
  long max_samples = 0;                    // 0 = the whole test split
  std::string protocol = "psy-insight";    // psy-insight | standard
  std::vector<std::string> metrics = {"bleu1", "bleu3", "meteor", "rougeL", "distinct2"};
  std::string bertscore_model;             // folder of the BERTScore encoder ("" = skip bertscore_*)
  JudgeSection judge;
};

struct Recipe {
  std::string name = "run";
  long seed = 66;
  int threads = 0;                         // 0 = all cores
  std::string output = "runs/${name}";
  ModelSection model;
  LoraSection lora;
  DataSection data;
  TrainSection train;
  DevicesSection devices;
  EvalSection eval;

  std::string source_path;                 // the YAML file it came from ("" for defaults)

  // The device the run starts on (devices.use's first entry), the dtype it computes in
  // (train.precision unless fp32, else model.dtype), and whether any device is a GPU.
  const DeviceName& first_device() const { return devices.use.front(); }
  WeightDtype compute_dtype() const { return train.precision != WeightDtype::Fp32 ? train.precision : model.dtype; }
  bool any_cuda() const;
  // The tokenizer the recipe names: model.tokenizer, else model.path; throws psy::Error when both are empty.
  std::string tokenizer_location() const;
};

// Loads and validates a recipe file, then applies `overrides` ("key.path=value", value in YAML
// syntax) and resolves ${name} in string values. Relative paths stay relative to the working
// directory. Throws psy::Error (exit code 2) naming the file, key path and expected type.
Recipe load_recipe(const std::string& path, const std::vector<std::string>& overrides = {});

// Parses recipe text (name is used in messages).
Recipe parse_recipe(const std::string& yaml_text, const std::string& name,
                    const std::vector<std::string>& overrides = {});

// The resolved recipe as YAML, every key with its value and a one-line doc comment.
std::string recipe_to_yaml(const Recipe& recipe, bool with_docs = true);

// Every key path with its type and doc, for `psy recipe keys`.
std::string recipe_reference();

}  // namespace psy

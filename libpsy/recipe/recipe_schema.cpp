#include "libpsy/recipe/recipe_schema.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <type_traits>

namespace psy::recipe_detail {

namespace {

}  // namespace

std::string node_kind(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null: return "null";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a mapping";
    default: return "'" + n.Scalar() + "'";
  }
}

namespace {

template <typename T>
struct Convert;

template <>
struct Convert<std::string> {
  static const char* name() { return "string"; }
  static std::string read(const YAML::Node& n) {
    if (!n.IsScalar()) throw TypeError{name()};
    return n.Scalar();
  }
  static YAML::Node write(const std::string& v) { return YAML::Node(v); }
};

template <>
struct Convert<bool> {
  static const char* name() { return "boolean"; }
  static bool read(const YAML::Node& n) {
    bool v;
    if (!n.IsScalar() || !YAML::convert<bool>::decode(n, v)) throw TypeError{name()};
    return v;
  }
  static YAML::Node write(bool v) { return YAML::Node(v); }
};

template <>
struct Convert<double> {
  static const char* name() { return "number"; }
  static double read(const YAML::Node& n) {
    if (!n.IsScalar()) throw TypeError{name()};
    const std::string& s = n.Scalar();
    char* end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    if (s.empty() || *end != '\0') throw TypeError{name()};
    if (!std::isfinite(v)) throw TypeError{"a finite number"};  // nan, inf, 1e999
    return v;
  }
  // Shortest text that reads back as the same double (0.05, not 0.050000000000000003).
  static YAML::Node write(double v) {
    char buf[32];
    for (int precision = 1; precision <= 17; ++precision) {
      std::snprintf(buf, sizeof buf, "%.*g", precision, v);
      if (std::strtod(buf, nullptr) == v) break;
    }
    return YAML::Node(std::string(buf));
  }
};

template <typename I>
struct ConvertInt {
  static const char* name() { return "integer"; }
  static I read(const YAML::Node& n) {
    if (!n.IsScalar()) throw TypeError{name()};
    const std::string& s = n.Scalar();
    char* end = nullptr;
    errno = 0;
    long long v = std::strtoll(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0') throw TypeError{name()};
    // No wrap-around: 4294967300 must not become 4 in an int.
    if (errno == ERANGE || v < static_cast<long long>(std::numeric_limits<I>::min()) ||
        v > static_cast<long long>(std::numeric_limits<I>::max()))
      throw TypeError{"an integer from " + std::to_string(std::numeric_limits<I>::min()) + " to " +
                      std::to_string(std::numeric_limits<I>::max())};
    return static_cast<I>(v);
  }
  static YAML::Node write(I v) { return YAML::Node(v); }
};
// A closed choice (recipe_choices.h): its name in YAML, the enum in the recipe.
template <typename E>
struct ConvertChoice {
  static const char* name() { return "string"; }
  static E read(const YAML::Node& n) {
    if (!n.IsScalar()) throw TypeError{name()};
    if (auto e = parse_choice<E>(n.Scalar())) return *e;
    std::string list;
    for (const auto& c : choice_names<E>()) list += (list.empty() ? "" : ", ") + c;
    throw TypeError{"one of " + list + " (found '" + n.Scalar() + "')"};
  }
  static YAML::Node write(E v) { return YAML::Node(std::string(choice_name(v))); }
};
#define PSY_CONVERT_CHOICE(E) \
  template <>                 \
  struct Convert<E> : ConvertChoice<E> {};
PSY_CONVERT_CHOICE(WeightDtype)
PSY_CONVERT_CHOICE(Quantization)
PSY_CONVERT_CHOICE(TrainMode)
PSY_CONVERT_CHOICE(LossDenominator)
PSY_CONVERT_CHOICE(NanPolicy)
PSY_CONVERT_CHOICE(ParallelMode)
PSY_CONVERT_CHOICE(DataUnit)
PSY_CONVERT_CHOICE(MissingAnnotation)
PSY_CONVERT_CHOICE(ReasoningSlot)
PSY_CONVERT_CHOICE(Decoding)
PSY_CONVERT_CHOICE(ScheduleKind)
PSY_CONVERT_CHOICE(OnError)
#undef PSY_CONVERT_CHOICE

template <>
struct Convert<DeviceName> {
  static const char* name() { return "string"; }
  static DeviceName read(const YAML::Node& n) {
    if (!n.IsScalar()) throw TypeError{name()};
    if (auto d = parse_device_name(n.Scalar())) return *d;
    throw TypeError{"one of cpu, cuda or cuda:N (found '" + n.Scalar() + "')"};
  }
  static YAML::Node write(const DeviceName& v) { return YAML::Node(v.str()); }
};

template <typename T>
std::vector<std::string> choices_of() {
  if constexpr (is_recipe_choice<T>::value) return choice_names<T>();
  else return {};
}

template <>
struct Convert<int> : ConvertInt<int> {};
template <>
struct Convert<long> : ConvertInt<long> {};

template <typename T>
struct Convert<std::vector<T>> {
  static std::string name() { return std::string("list of ") + Convert<T>::name() + "s"; }
  static std::vector<T> read(const YAML::Node& n) {
    std::vector<T> out;
    if (n.IsNull()) return out;
    if (n.IsScalar()) {  // a single value where a list is expected
      out.push_back(Convert<T>::read(n));
      return out;
    }
    if (!n.IsSequence()) throw TypeError{name()};
    for (const auto& e : n) {
      try {
        out.push_back(Convert<T>::read(e));
      } catch (const TypeError& e) {
        if (e.expected.rfind("one of ", 0) == 0) throw;  // names the item that is not a choice
        throw TypeError{name()};
      }
    }
    return out;
  }
  static YAML::Node write(const std::vector<T>& v) {
    YAML::Node n(YAML::NodeType::Sequence);
    for (const auto& e : v) n.push_back(Convert<T>::write(e));
    n.SetStyle(YAML::EmitterStyle::Flow);
    return n;
  }
};

template <typename T>
struct Convert<std::map<std::string, T>> {
  static std::string name() { return std::string("mapping of ") + Convert<T>::name() + "s"; }
  static std::map<std::string, T> read(const YAML::Node& n) {
    std::map<std::string, T> out;
    if (n.IsNull()) return out;
    if (!n.IsMap()) throw TypeError{name()};
    for (const auto& kv : n) {
      try {
        out[kv.first.Scalar()] = Convert<T>::read(kv.second);
      } catch (const TypeError& e) {
        throw TypeError{name() + " (" + kv.first.Scalar() + ": " + e.expected + ")"};
      }
    }
    return out;
  }
  static YAML::Node write(const std::map<std::string, T>& v) {
    YAML::Node n(YAML::NodeType::Map);
    for (const auto& [k, e] : v) n[k] = Convert<T>::write(e);
    n.SetStyle(YAML::EmitterStyle::Flow);
    return n;
  }
};

template <typename T>
void check_choice(const T&, const std::vector<std::string>&) {}
void check_choice(const std::string& v, const std::vector<std::string>& choices) {
  if (choices.empty()) return;
  for (const auto& c : choices) {
    if (v == c) return;
  }
  std::string list;
  for (const auto& c : choices) list += (list.empty() ? "" : ", ") + c;
  throw TypeError{"one of " + list + " (found '" + v + "')"};
}
void check_choice(const std::vector<std::string>& v, const std::vector<std::string>& choices) {
  for (const auto& e : v) check_choice(e, choices);
}

template <typename Access>
void field(std::vector<FieldSpec>& out, const std::string& path, Access access, const std::string& doc,
           std::vector<std::string> choices = {}) {
  using T = std::remove_reference_t<decltype(access(std::declval<Recipe&>()))>;
  FieldSpec f;
  f.path = path;
  f.type = Convert<T>::name();
  f.doc = doc;
  f.choices = choices.empty() ? choices_of<T>() : choices;
  f.set = [access, choices](Recipe& r, const YAML::Node& n) {
    T value = Convert<T>::read(n);
    check_choice(value, choices);
    access(r) = std::move(value);
  };
  f.get = [access](const Recipe& r) { return Convert<T>::write(access(const_cast<Recipe&>(r))); };
  out.push_back(std::move(f));
}

#define PSY_FIELD(path, member, ...) field(f, path, [](Recipe& r) -> auto& { return r.member; }, __VA_ARGS__)

std::vector<FieldSpec> build_fields() {
  std::vector<FieldSpec> f;
  PSY_FIELD("name", name, "run name; names the output folder");
  PSY_FIELD("seed", seed, "seed of every random choice (split, mixture, init, dropout, sampling)");
  PSY_FIELD("threads", threads, "CPU threads for LibTorch; 0 = all cores");
  PSY_FIELD("output", output, "run folder; ${name} is replaced by the name");

  PSY_FIELD("model.path", model.path, "Hugging Face model folder (config.json, *.safetensors, tokenizer.model)");
  PSY_FIELD("model.dtype", model.dtype, "weight dtype of the frozen base");
  PSY_FIELD("model.chat_template", model.chat_template,
            "chat format: auto = the model folder's own Jinja template (chat_template.jinja or "
            "tokenizer_config.json), else a built-in",
            {"auto", "mistral", "llama2", "chatml", "plain"});
  PSY_FIELD("model.tokenizer", model.tokenizer, "tokenizer file or folder (tokenizer.json or tokenizer.model); empty = the model folder");
  PSY_FIELD("model.quantization", model.quantization, "quantisation of the frozen base");

  PSY_FIELD("lora.r", lora.r, "LoRA rank");
  PSY_FIELD("lora.alpha", lora.alpha, "LoRA alpha; scaling = alpha / r (alpha / sqrt(r) with rslora)");
  PSY_FIELD("lora.dropout", lora.dropout, "dropout on the LoRA input");
  PSY_FIELD("lora.targets", lora.targets, "module names to adapt, or [all-linear]");
  PSY_FIELD("lora.rslora", lora.rslora, "rank-stabilised scaling alpha / sqrt(r)");
  PSY_FIELD("lora.init_adapter", lora.init_adapter,
            "PEFT adapter folder to start from (its r, alpha and targets must match); \"\" = fresh init from the seed");

  PSY_FIELD("data.path", data.path, "Psy-Insight JSON or JSONL file(s)");
  PSY_FIELD("data.lang", data.lang, "language of markers, instructions and tokenisation for metrics", {"en", "zh"});
  PSY_FIELD("data.task", data.task, "what each therapist turn is trained to produce",
            {"dialog", "reasoning_dialog", "observation_reasoning_dialog", "mix", "rag_dialog", "rag_dialog_explanation"});
  PSY_FIELD("data.unit", data.unit, "one sample per therapist turn, or one per session");
  PSY_FIELD("data.test_fraction", data.test_fraction, "sessions held out for evaluation");
  PSY_FIELD("data.max_seq_len", data.max_seq_len, "tokens per sample; oldest history is dropped first");
  PSY_FIELD("data.prompt_loss_weight", data.prompt_loss_weight, "loss weight of prompt tokens; 0 = completion only");
  PSY_FIELD("data.section_weights", data.section_weights, "loss weight of each target section");
  PSY_FIELD("data.missing_annotation", data.missing_annotation, "what to do when a turn lacks a needed annotation");
  PSY_FIELD("data.context", data.context, "session fields put in the input",
            {"background", "guide", "topic", "psychotherapy", "theme"});
  PSY_FIELD("data.instruction", data.instruction, "instruction text; empty = the language's default");
  PSY_FIELD("data.markers", data.markers, "overrides of section markers, e.g. {observation: 'Observation:'}");
  PSY_FIELD("data.mix_tasks", data.mix_tasks, "tasks mixed by task: mix",
            {"dialog", "reasoning_dialog", "observation_reasoning_dialog", "emotion", "strategy", "psychotherapy",
             "topic"});
  PSY_FIELD("data.on_error", data.on_error, "unusable sessions: stop at the first, or skip and report");
  PSY_FIELD("data.reasoning_slot", data.reasoning_slot,
            "where observation + reasoning go with chat_template auto: the assistant's content, or its "
            "reasoning_content (the template's own <think> block, e.g. Qwen3)");
  PSY_FIELD("data.retrieval_encoder", data.retrieval_encoder,
            "rag tasks: sentence encoder folder (BERT family, sentence-transformers layout)");
  PSY_FIELD("data.retrieval_k", data.retrieval_k, "rag tasks: similar training sessions per prompt");
  PSY_FIELD("data.retrieval_fields", data.retrieval_fields, "rag tasks: what each retrieved case shows",
            {"topic", "guide", "summary", "background", "psychotherapy", "theme", "reasoning"});
  PSY_FIELD("data.retrieval_index_fields", data.retrieval_index_fields,
            "rag tasks: session fields a training session is indexed (embedded) by",
            {"topic", "guide", "summary", "background", "psychotherapy", "theme", "reasoning"});
  PSY_FIELD("data.retrieval_query_turns", data.retrieval_query_turns,
            "rag tasks: recent turns before the target in the query (after the background)");
  PSY_FIELD("data.retrieval_max_tokens", data.retrieval_max_tokens,
            "rag tasks: token budget of the retrieved text per prompt; dropped before history");

  PSY_FIELD("train.mode", train.mode, "train LoRA adapters or all parameters");
  PSY_FIELD("train.epochs", train.epochs, "passes over the training split (fractions allowed)");
  PSY_FIELD("train.max_steps", train.max_steps, "optimizer steps; > 0 overrides epochs");
  PSY_FIELD("train.micro_batch", train.micro_batch, "samples per forward pass");
  PSY_FIELD("train.grad_accum", train.grad_accum, "micro-batches per optimizer step");
  PSY_FIELD("train.lr", train.lr, "peak learning rate");
  PSY_FIELD("train.schedule", train.schedule, "learning-rate schedule after warmup");
  PSY_FIELD("train.warmup_ratio", train.warmup_ratio, "warmup as a fraction of all steps");
  PSY_FIELD("train.warmup_steps", train.warmup_steps, "warmup steps; > 0 overrides warmup_ratio");
  PSY_FIELD("train.min_lr_ratio", train.min_lr_ratio, "floor of the schedule as a fraction of lr");
  PSY_FIELD("train.weight_decay", train.weight_decay, "AdamW decoupled weight decay");
  PSY_FIELD("train.max_grad_norm", train.max_grad_norm, "clip gradients to this global norm; 0 = off");
  PSY_FIELD("train.plw_normalization", train.plw_normalization,
            "loss denominator: sum of token weights, or count of tokens with non-zero weight");
  PSY_FIELD("train.precision", train.precision, "compute precision");
  PSY_FIELD("train.gradient_checkpointing", train.gradient_checkpointing, "recompute each layer in backward");
  PSY_FIELD("train.group_by_length", train.group_by_length, "batch samples of similar length");
  PSY_FIELD("train.shuffle", train.shuffle, "shuffle samples each epoch (seeded); false = the split's order, as exported");
  PSY_FIELD("train.packing", train.packing,
            "fill each sequence with samples up to data.max_seq_len (fewer, fuller steps: changes the samples per step)");
  PSY_FIELD("train.padding_free", train.padding_free,
            "a micro-batch's samples in one row without padding, each its own sequence (same loss, less compute)");
  PSY_FIELD("train.save_every", train.save_every, "checkpoint every N steps; 0 = at the end only");
  PSY_FIELD("train.keep_last", train.keep_last, "checkpoints kept");
  PSY_FIELD("train.eval_every", train.eval_every, "held-out loss every N steps; 0 = at the end only");
  PSY_FIELD("train.early_stop_patience", train.early_stop_patience, "stop after N evaluations without improvement; 0 = off");
  PSY_FIELD("train.nan_policy", train.nan_policy, "on a NaN/inf loss: stop the run or skip the step");
  PSY_FIELD("train.log_every", train.log_every, "log every N steps");
  PSY_FIELD("train.tensorboard", train.tensorboard, "also write TensorBoard event files");

  PSY_FIELD("devices.use", devices.use, "devices, e.g. [cpu] or [cuda:0, cuda:1]");
  PSY_FIELD("devices.parallel", devices.parallel, "how several devices share the work");
  PSY_FIELD("devices.split", devices.split, "decoder layers per device for parallel: layers; empty = balanced");

  PSY_FIELD("eval.max_new_tokens", eval.max_new_tokens, "generation length limit");
  PSY_FIELD("eval.decoding", eval.decoding, "greedy or sampling");
  PSY_FIELD("eval.temperature", eval.temperature, "sampling temperature");
  PSY_FIELD("eval.top_k", eval.top_k, "sample from the k most likely tokens; 0 = off");
  PSY_FIELD("eval.top_p", eval.top_p, "nucleus sampling mass; 1 = off");
  PSY_FIELD("eval.repetition_penalty", eval.repetition_penalty, "penalty on tokens already generated; 1 = off");
  PSY_FIELD("eval.batch_size", eval.batch_size, "sequences decoded together (continuous batching: a finished one's slot takes the next prompt)");
  PSY_FIELD("eval.prefix_cache_mb", eval.prefix_cache_mb,
            "MB of prompts' keys/values kept so a prompt that starts like an earlier one prefills only the rest; 0 = off");
  PSY_FIELD("eval.max_samples", eval.max_samples, "evaluate at most N test turns; 0 = all");
  PSY_FIELD("eval.protocol", eval.protocol, "metric protocol (see psy score --help)", {"psy-insight", "standard"});
  PSY_FIELD("eval.metrics", eval.metrics, "metrics to report");
  PSY_FIELD("eval.bertscore_model", eval.bertscore_model, "BERTScore encoder folder; empty = no bertscore_*");
  PSY_FIELD("eval.judge.model", eval.judge.model, "rubric judge: chat model folder scoring each prediction; empty = no judge");
  PSY_FIELD("eval.judge.rubrics", eval.judge.rubrics, "rubric judge: rubric YAML files (rubrics/*.yaml)");
  PSY_FIELD("eval.judge.chat_template", eval.judge.chat_template, "rubric judge: the judge model's chat format",
            {"auto", "mistral", "llama2", "chatml", "plain", "none"});
  PSY_FIELD("eval.judge.dtype", eval.judge.dtype, "rubric judge: weight dtype");
  PSY_FIELD("eval.judge.max_new_tokens", eval.judge.max_new_tokens, "rubric judge: tokens per answer");
  PSY_FIELD("eval.judge.temperature", eval.judge.temperature, "rubric judge: 0 = greedy (deterministic)");
  PSY_FIELD("eval.judge.batch_size", eval.judge.batch_size, "rubric judge: examples judged together");
  PSY_FIELD("eval.judge.max_history_chars", eval.judge.max_history_chars,
            "rubric judge: show the last N bytes of the conversation; 0 = all");
  return f;
}

#undef PSY_FIELD

}  // namespace

const std::vector<FieldSpec>& recipe_fields() {
  static const std::vector<FieldSpec> fields = build_fields();
  return fields;
}

}  // namespace psy::recipe_detail

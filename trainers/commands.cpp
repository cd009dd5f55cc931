#include "trainers/commands.h"

#include <iostream>

#include "libpsy/core/error.h"

namespace psy::cli {

// Declarations of the subcommands (one cmd_<name>.cpp each).
int cmd_data(const Args& args);
int cmd_tokenizer(const Args& args);
int cmd_tokenize(const Args& args);
int cmd_recipe(const Args& args);
int cmd_train(const Args& args);
int cmd_merge(const Args& args);
int cmd_init_model(const Args& args);
int cmd_plan(const Args& args);
int cmd_report(const Args& args);
int cmd_score(const Args& args);
int cmd_eval(const Args& args);
int cmd_logits(const Args& args);
int cmd_generate(const Args& args);
int cmd_chat(const Args& args);
int cmd_judge(const Args& args);

const std::vector<Command>& commands() {
  static const std::vector<Command> table = {
      {"data", "dataset statistics, splits and sample building", cmd_data},
      {"tokenizer", "train a SentencePiece tokenizer; show how text is tokenised", cmd_tokenizer},
      {"tokenize", "token ids and pieces of text as a model's tokenizer gives them (tokenizer.json or .model)", cmd_tokenize},
      {"recipe", "show resolved recipes and the keys they take", cmd_recipe},
      {"train", "fine-tune a model from a recipe (LoRA or full), with checkpoints and resume", cmd_train},
      {"merge", "merge a LoRA adapter into its base model (Hugging Face checkpoint)", cmd_merge},
      {"init-model", "write a randomly initialised Llama-shaped model (quickstart, tests, benchmarks)", cmd_init_model},
      {"plan", "estimate memory per device for a recipe (single, data parallel, layer split, NF4)", cmd_plan},
      {"report", "tables (Markdown, LaTeX, CSV) and SVG plots from run folders", cmd_report},
      {"eval", "generate on the held-out split, parse the CoT, score; predictions.jsonl + metrics.json", cmd_eval},
      {"score", "BLEU, METEOR, ROUGE-L, Distinct of predictions vs references (with CIs)", cmd_score},
      {"logits", "write a model's logits for token ids (check a conversion against another framework)", cmd_logits},
      {"generate", "generate continuations of prompts (greedy or sampled; LoRA adapters)", cmd_generate},
      {"chat", "interactive counseling chat in the terminal, reasoning shown dimmed", cmd_chat},
      {"judge", "score predictions with a local chat model and rubric files (judgements + means with CIs)", cmd_judge},
  };
  return table;
}

std::string list_commands(const std::vector<Command>& table) {
  std::string out;
  for (const auto& c : table) out += (out.empty() ? "" : ", ") + std::string(c.name);
  return out;
}

int dispatch(const std::string& program, const std::vector<Command>& table, const Args& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << "usage: " << program << " <command> [options]\n\ncommands:\n";
    for (const auto& c : table) {
      std::string name = c.name;
      name.resize(12, ' ');
      std::cout << "  " << name << c.summary << "\n";
    }
    std::cout << "\nRun '" << program << " <command> --help' for a command's options.\n";
    return args.empty() ? kExitBadInput : 0;
  }
  for (const auto& c : table) {
    if (args[0] == c.name) return c.run(Args(args.begin() + 1, args.end()));
  }
  throw Error((program == "psy" ? std::string() : program + ": ") + "unknown command '" + args[0] + "' (valid: " + list_commands(table) + ")");
}

}  // namespace psy::cli

// psy logits: the logits of a Hugging Face Llama/Mistral checkpoint for given token ids, to check
// a conversion or an implementation against another framework.
#include <iostream>

#include <nlohmann/json.hpp>

#include "libpsy/core/cli_args.h"
#include "libpsy/core/error.h"
#include "libpsy/core/json_file.h"
#include "libpsy/core/text_file.h"
#include "libpsy/io/safetensors.h"
#include "trainers/commands.h"
#include "trainers/model_args.h"

namespace psy::cli {

namespace {

std::vector<std::vector<int64_t>> int_rows(const nlohmann::json& j, const std::string& file, const std::string& field) {
  if (!j.is_array() || j.empty()) throw Error(file + ": '" + field + "' " + expected_found("a non-empty list of lists", j.type_name()));
  std::vector<std::vector<int64_t>> rows;
  for (std::size_t r = 0; r < j.size(); ++r) {
    if (!j[r].is_array()) throw Error(file + ": '" + field + "' row " + std::to_string(r) + " is not a list");
    std::vector<int64_t> row;
    for (const auto& x : j[r]) {
      if (!x.is_number_integer()) throw Error(file + ": '" + field + "' row " + std::to_string(r) + " has " + x.dump() + ", expected integers");
      row.push_back(x.get<int64_t>());
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace

int cmd_logits(const Args& args) {
  ArgParser p("psy logits",
              "Write the logits of a model for token ids given in a JSON file.\n"
              "The input is shaped like the golden inputs.json: an object with \"input_ids\" (a list of\n"
              "equal-length lists of token ids) and optionally \"attention_mask\" (same shape, 1 = real token,\n"
              "0 = padding), either at the top level or under \"batch\". Without a mask every position is real.\n"
              "The output safetensors file has one F32 tensor \"logits.<b>\" [real positions, vocab] per\n"
              "sequence b, holding the logits at that sequence's real positions in order.");
  p.option("model", "DIR", "Hugging Face model folder (config.json + safetensors, single or sharded)")
      .option("input", "FILE", "input JSON (see above)")
      .option("out", "FILE", "output .safetensors file (written atomically)");
  add_decoder_options(p, "weights and activations dtype (logits are always fp32)");
  auto a = p.parse(args);
  if (a.help_requested()) return std::cout << p.help(), 0;
  for (const char* required : {"model", "input", "out"}) {
    if (a.get(required).empty()) throw Error(std::string("psy logits: --") + required + " is required");
  }
  const std::string file = a.get("input");
  nlohmann::json j = read_json_file(file);
  if (j.is_object() && j.contains("batch")) j = j["batch"];
  if (!j.is_object() || !j.contains("input_ids")) throw Error(file + ": expected an object with \"input_ids\"");
  auto ids = int_rows(j["input_ids"], file, "input_ids");
  const std::size_t width = ids[0].size();
  for (std::size_t r = 0; r < ids.size(); ++r) {
    if (ids[r].size() != width) throw Error(file + ": input_ids row " + std::to_string(r) + " has " + std::to_string(ids[r].size()) + " ids, row 0 has " + std::to_string(width) + " (pad them and give attention_mask)");
  }
  std::vector<std::vector<int64_t>> mask(ids.size(), std::vector<int64_t>(width, 1));
  if (j.contains("attention_mask")) {
    mask = int_rows(j["attention_mask"], file, "attention_mask");
    if (mask.size() != ids.size()) throw Error(file + ": attention_mask has " + std::to_string(mask.size()) + " rows, input_ids " + std::to_string(ids.size()));
    for (std::size_t r = 0; r < mask.size(); ++r) {
      if (mask[r].size() != width) throw Error(file + ": attention_mask row " + std::to_string(r) + " " + expected_found(std::to_string(width) + " values", std::to_string(mask[r].size())));
    }
  }
  Decoder decoder = load_decoder_from_args(a);
  // Checked before the model runs: LibTorch's "index out of range in self" names no file or row.
  const int64_t vocab = decoder->config().vocab_size;
  for (std::size_t r = 0; r < ids.size(); ++r) {
    for (std::size_t t = 0; t < width; ++t) {
      if (ids[r][t] < 0 || ids[r][t] >= vocab)
        throw Error(file + ": input_ids row " + std::to_string(r) + ", position " + std::to_string(t) + ": token id " +
                    expected_found("from 0 to " + std::to_string(vocab - 1) + " (the model's vocab_size is " +
                                       std::to_string(vocab) + ")",
                                   std::to_string(ids[r][t])));
      if (mask[r][t] != 0 && mask[r][t] != 1)
        throw Error(file + ": attention_mask row " + std::to_string(r) + ", position " + std::to_string(t) + ": " +
                    expected_found("0 or 1", std::to_string(mask[r][t])));
    }
  }
  torch::NoGradGuard no_grad;
  const auto rows = static_cast<int64_t>(ids.size());
  torch::Tensor id_t = torch::empty({rows, static_cast<int64_t>(width)}, torch::kInt64);
  torch::Tensor mask_t = torch::empty({rows, static_cast<int64_t>(width)}, torch::kInt64);
  for (int64_t r = 0; r < rows; ++r) {
    id_t[r].copy_(torch::tensor(ids[static_cast<std::size_t>(r)], torch::kInt64));
    mask_t[r].copy_(torch::tensor(mask[static_cast<std::size_t>(r)], torch::kInt64));
  }
  torch::Tensor positions = (mask_t.cumsum(1) - 1).clamp_min(0);
  torch::Tensor logits = decoder->forward(id_t, mask_t, nullptr, positions).cpu();
  NamedTensors out;
  for (int64_t r = 0; r < rows; ++r) {
    torch::Tensor real = mask_t[r].nonzero().view({-1});
    out.emplace_back("logits." + std::to_string(r), logits[r].index_select(0, real).contiguous());
  }
  write_safetensors(a.get("out"), out, {{"format", "pt"}});
  std::cerr << "psy logits: " << rows << " sequence" << (rows == 1 ? "" : "s") << " -> " << a.get("out") << "\n";
  return 0;
}

}  // namespace psy::cli

#include "libpsy/generate/generator.h"

#include <algorithm>

#include <ATen/CPUGeneratorImpl.h>

#include "libpsy/core/error.h"
#include "libpsy/generate/prompt_checks.h"
#include "libpsy/generate/stop_strings.h"
#include "libpsy/nn/kv_cache.h"

namespace psy {

GenerationResult generate(DecoderImpl& decoder, const std::vector<std::vector<int64_t>>& prompts,
                          const GenerationOptions& o) {
  if (prompts.empty()) return {};
  if (o.max_new_tokens < 0) throw Error("max_new_tokens must be >= 0");
  if (!o.stop_strings.empty() && !o.detokenize) throw Error("stop strings need a detokenizer", kExitFailure);
  torch::NoGradGuard no_grad;
  const auto batch = static_cast<int64_t>(prompts.size());
  check_prompts(decoder.config(), prompts, o.max_new_tokens);
  int64_t longest = 0;
  for (const auto& p : prompts) longest = std::max<int64_t>(longest, static_cast<int64_t>(p.size()));
  // Left padding: real tokens end at the same column, so the next token is always the last column.
  torch::Tensor ids = torch::full({batch, longest}, o.pad_id, torch::kInt64);
  torch::Tensor mask = torch::zeros({batch, longest}, torch::kInt64);
  for (int64_t b = 0; b < batch; ++b) {
    const auto& p = prompts[static_cast<std::size_t>(b)];
    const auto n = static_cast<int64_t>(p.size());
    ids[b].narrow(0, longest - n, n).copy_(torch::tensor(p, torch::kInt64));
    mask[b].narrow(0, longest - n, n).fill_(1);
  }
  torch::Tensor positions = (mask.cumsum(1) - 1).clamp_min(0);
  const torch::Device device = decoder.device();
  ids = ids.to(device);
  mask = mask.to(device);
  positions = positions.to(device);

  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(o.seed);
  std::vector<std::vector<int64_t>> seen(prompts.begin(), prompts.end());
  GenerationResult result;
  result.rows.resize(static_cast<std::size_t>(batch));
  std::vector<bool> done(static_cast<std::size_t>(batch), false);

  // A static cache and mask: sized once for the prompt and every new token, written in place.
  KVCache cache(decoder.config().num_hidden_layers);
  cache.reserve(longest + o.max_new_tokens);
  torch::Tensor full_mask = torch::ones({batch, longest + std::max<int64_t>(o.max_new_tokens, 1)}, mask.options());
  full_mask.narrow(1, 0, longest).copy_(mask);
  int64_t columns = longest;
  torch::Tensor last = o.use_cache ? decoder.next_token_logits(ids, mask, &cache, positions)
                                   : decoder.next_token_logits(ids, mask, nullptr, positions);
  torch::Tensor last_pos = positions.select(1, positions.size(1) - 1);

  for (int64_t step = 0; step < o.max_new_tokens; ++step) {
    if (o.interrupted && o.interrupted()) {
      for (int64_t b = 0; b < batch; ++b) {
        if (!done[static_cast<std::size_t>(b)]) result.rows[static_cast<std::size_t>(b)].finish_reason = "interrupted";
        done[static_cast<std::size_t>(b)] = true;
      }
      break;
    }
    torch::Tensor scores = last.to(torch::kFloat32).clone();
    apply_repetition_penalty(scores, seen, o.sampling.repetition_penalty);
    torch::Tensor next = choose_next_tokens(scores, o.sampling, generator);
    auto next_acc = next.accessor<int64_t, 1>();
    bool all_done = true;
    for (int64_t b = 0; b < batch; ++b) {
      const auto i = static_cast<std::size_t>(b);
      if (done[i]) {
        next_acc[b] = o.pad_id;
        continue;
      }
      const int64_t token = next_acc[b];
      GeneratedRow& row = result.rows[i];
      row.new_ids.push_back(token);
      seen[i].push_back(token);
      if (o.on_token) o.on_token(b, token);
      if (std::find(o.eos_ids.begin(), o.eos_ids.end(), token) != o.eos_ids.end()) {
        row.finish_reason = "eos";
        done[i] = true;
      } else if (!o.stop_strings.empty()) {
        std::string text = o.detokenize(row.new_ids);
        std::size_t at = find_stop_string(text, o.stop_strings);
        if (at != std::string::npos) {
          row.text = text.substr(0, at);
          row.finish_reason = "stop_string";
          done[i] = true;
        }
      }
      if (!done[i]) all_done = false;
    }
    if (all_done || step + 1 == o.max_new_tokens) break;
    torch::Tensor next_dev = next.to(device).view({batch, 1});
    columns += 1;
    last_pos = last_pos + 1;
    if (o.use_cache) {
      last = decoder.next_token_logits(next_dev, full_mask.narrow(1, 0, columns), &cache, last_pos.view({batch, 1}));
    } else {  // recomputes the whole sequence (tests compare it with the cached path)
      ids = torch::cat({ids, next_dev}, 1);
      positions = torch::cat({positions, last_pos.view({batch, 1})}, 1);
      last = decoder.next_token_logits(ids, full_mask.narrow(1, 0, columns), nullptr, positions);
    }
  }
  for (std::size_t i = 0; i < result.rows.size(); ++i) {
    GeneratedRow& row = result.rows[i];
    if (row.finish_reason.empty()) row.finish_reason = "length";
    if (o.detokenize && row.finish_reason != "stop_string") row.text = o.detokenize(row.new_ids);
  }
  return result;
}

}  // namespace psy

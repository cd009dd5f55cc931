#include "libpsy/evaluate/batch_generation.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <unordered_set>

#include "libpsy/core/error.h"
#include "libpsy/core/rng.h"
#include "libpsy/nn/kv_cache.h"

namespace psy {

void validate_generation_settings(const GenerationSettings& s) {
  if (s.max_new_tokens < 1) throw Error("eval.max_new_tokens: " + expected_found("at least 1", std::to_string(s.max_new_tokens)));
  if (s.sample && !(s.temperature > 0))
    throw Error("eval.temperature: " + expected_found("a number > 0 when decoding: sample", std::to_string(s.temperature)));
  if (s.top_k < 0) throw Error("eval.top_k: " + expected_found("0 (off) or more", std::to_string(s.top_k)));
  if (!(s.top_p > 0 && s.top_p <= 1)) throw Error("eval.top_p: " + expected_found("a number in (0, 1]", std::to_string(s.top_p)));
  if (!(s.repetition_penalty > 0))
    throw Error("eval.repetition_penalty: " + expected_found("a number > 0 (1 = off)", std::to_string(s.repetition_penalty)));
}

namespace {

// Hugging Face's repetition penalty: a seen token's logit is divided by p when positive, multiplied when negative.
void apply_repetition_penalty(std::vector<float>& logits, const std::vector<int32_t>& seen, double p) {
  std::unordered_set<int32_t> done;
  for (int32_t id : seen) {
    if (id < 0 || static_cast<size_t>(id) >= logits.size() || !done.insert(id).second) continue;
    float& l = logits[static_cast<size_t>(id)];
    l = l < 0 ? static_cast<float>(l * p) : static_cast<float>(l / p);
  }
}

// Temperature, top-k, top-p, then one draw from the renormalised distribution.
int32_t sample_token(std::vector<float> logits, const GenerationSettings& s, Rng& rng) {
  const size_t v = logits.size();
  std::vector<int32_t> order(v);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return logits[a] > logits[b]; });
  size_t keep = v;
  if (s.top_k > 0) keep = std::min(keep, static_cast<size_t>(s.top_k));
  const double top = logits[order[0]] / s.temperature;
  std::vector<double> p(keep);
  double sum = 0;
  for (size_t i = 0; i < keep; ++i) sum += p[i] = std::exp(logits[order[i]] / s.temperature - top);
  if (s.top_p < 1) {
    double cum = 0;
    size_t n = 0;
    while (n < keep) {  // smallest prefix whose mass reaches top_p (at least one token)
      cum += p[n] / sum;
      ++n;
      if (cum >= s.top_p) break;
    }
    keep = n;
    sum = std::accumulate(p.begin(), p.begin() + static_cast<long>(keep), 0.0);
  }
  double u = rng.uniform01() * sum;
  for (size_t i = 0; i < keep; ++i) {
    u -= p[i];
    if (u < 0) return order[i];
  }
  return order[keep - 1];
}

}  // namespace

std::vector<std::vector<int32_t>> generate_batch(DecoderImpl& decoder, const std::vector<std::vector<int32_t>>& prompts,
                                                 const GenerationSettings& s, const std::vector<uint64_t>& row_seeds) {
  validate_generation_settings(s);
  const size_t b = prompts.size();
  std::vector<std::vector<int32_t>> out(b);
  if (b == 0) return out;
  if (row_seeds.size() != b) throw Error("generate_batch: " + expected_found(std::to_string(b) + " row seeds", std::to_string(row_seeds.size())));
  size_t len = 0;
  for (const auto& p : prompts) {
    if (p.empty()) throw Error("generate_batch: an empty prompt");
    len = std::max(len, p.size());
  }
  torch::NoGradGuard no_grad;
  const torch::Device device = decoder.device();
  // Left padding: row i's tokens end at column len-1; positions count real tokens only.
  std::vector<int64_t> ids(b * len, s.pad_id), mask(b * len, 0), pos(b * len, 0);
  for (size_t i = 0; i < b; ++i) {
    const size_t off = len - prompts[i].size();
    for (size_t t = 0; t < prompts[i].size(); ++t) {
      ids[i * len + off + t] = prompts[i][t];
      mask[i * len + off + t] = 1;
      pos[i * len + off + t] = static_cast<int64_t>(t);
    }
  }
  auto make = [&](std::vector<int64_t>& v, int64_t rows, int64_t cols) {
    return torch::from_blob(v.data(), {rows, cols}, torch::kInt64).clone().to(device);
  };
  torch::Tensor attn = make(mask, static_cast<int64_t>(b), static_cast<int64_t>(len));
  torch::Tensor positions = make(pos, static_cast<int64_t>(b), static_cast<int64_t>(len));
  KVCache cache(static_cast<int64_t>(decoder.layers().size()));
  torch::Tensor logits = decoder.forward(make(ids, static_cast<int64_t>(b), static_cast<int64_t>(len)), attn, &cache, positions);
  std::vector<int64_t> next_pos(b);
  for (size_t i = 0; i < b; ++i) next_pos[i] = static_cast<int64_t>(prompts[i].size());

  std::vector<size_t> active(b);  // batch row -> prompt index
  std::iota(active.begin(), active.end(), 0);
  std::vector<Rng> rngs;
  for (uint64_t seed : row_seeds) rngs.emplace_back(seed);
  const bool per_row = s.sample || s.repetition_penalty != 1.0;
  const std::unordered_set<int32_t> stops(s.stop_ids.begin(), s.stop_ids.end());

  for (int step = 0; step < s.max_new_tokens && !active.empty(); ++step) {
    torch::Tensor last = logits.select(1, logits.size(1) - 1);  // [rows, V] fp32
    std::vector<int32_t> chosen(active.size());
    if (!per_row) {
      torch::Tensor am = last.argmax(-1).to(torch::kCPU).to(torch::kInt64).contiguous();
      for (size_t r = 0; r < active.size(); ++r) chosen[r] = static_cast<int32_t>(am.data_ptr<int64_t>()[r]);
    } else {
      torch::Tensor host = last.to(torch::kCPU).to(torch::kFloat32).contiguous();
      const int64_t v = host.size(1);
      for (size_t r = 0; r < active.size(); ++r) {
        const float* row = host.data_ptr<float>() + static_cast<int64_t>(r) * v;
        std::vector<float> l(row, row + v);
        const size_t i = active[r];
        if (s.repetition_penalty != 1.0) {
          apply_repetition_penalty(l, prompts[i], s.repetition_penalty);
          apply_repetition_penalty(l, out[i], s.repetition_penalty);
        }
        chosen[r] = s.sample ? sample_token(std::move(l), s, rngs[i])
                             : static_cast<int32_t>(std::max_element(l.begin(), l.end()) - l.begin());
      }
    }
    // Record, and keep the rows that go on.
    std::vector<int64_t> keep_rows, next_ids, next_positions;
    std::vector<size_t> still;
    for (size_t r = 0; r < active.size(); ++r) {
      const size_t i = active[r];
      if (stops.count(chosen[r])) continue;
      out[i].push_back(chosen[r]);
      if (step + 1 == s.max_new_tokens) continue;
      keep_rows.push_back(static_cast<int64_t>(r));
      next_ids.push_back(chosen[r]);
      next_positions.push_back(next_pos[i]++);
      still.push_back(i);
    }
    if (still.empty()) break;
    if (still.size() != active.size()) {
      torch::Tensor rows = torch::tensor(keep_rows, torch::kInt64).to(device);
      cache.select_rows(rows);
      attn = attn.index_select(0, rows);
    }
    active = std::move(still);
    const int64_t n = static_cast<int64_t>(active.size());
    attn = torch::cat({attn, torch::ones({n, 1}, attn.options())}, 1);
    logits = decoder.forward(make(next_ids, n, 1), attn, &cache, make(next_positions, n, 1));
  }
  return out;
}

}  // namespace psy

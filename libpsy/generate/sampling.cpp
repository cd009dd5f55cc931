#include "libpsy/generate/sampling.h"

#include <limits>

#include "libpsy/core/error.h"

namespace psy {

void apply_repetition_penalty(torch::Tensor& logits, const std::vector<std::vector<int64_t>>& seen, double penalty) {
  if (penalty == 1.0) return;
  for (std::size_t b = 0; b < seen.size(); ++b) {
    if (seen[b].empty()) continue;
    torch::Tensor row = logits[static_cast<int64_t>(b)];
    torch::Tensor idx = torch::tensor(seen[b], torch::TensorOptions().dtype(torch::kInt64)).to(row.device());
    idx = std::get<0>(torch::_unique(idx));
    torch::Tensor vals = row.index_select(0, idx);
    vals = torch::where(vals > 0, vals / penalty, vals * penalty);
    row.index_copy_(0, idx, vals);
  }
}

torch::Tensor filter_logits(const torch::Tensor& logits, const SamplingOptions& o) {
  if (!(o.temperature > 0)) throw Error("temperature must be > 0 when sampling");
  if (!(o.top_p > 0 && o.top_p <= 1)) throw Error("top_p must be in (0, 1]");
  if (o.top_k < 0) throw Error("top_k must be >= 0");
  const float neg_inf = -std::numeric_limits<float>::infinity();
  torch::Tensor x = logits.to(torch::kFloat32) / o.temperature;
  const int64_t vocab = x.size(-1);
  if (o.top_k > 0 && o.top_k < vocab) {
    torch::Tensor kth = std::get<0>(torch::topk(x, o.top_k, -1)).narrow(-1, o.top_k - 1, 1);
    x = x.masked_fill(x < kth, neg_inf);
  }
  if (o.top_p < 1.0) {
    auto sorted = torch::sort(x, -1, /*descending=*/true);
    torch::Tensor values = std::get<0>(sorted), order = std::get<1>(sorted);
    torch::Tensor cum = torch::softmax(values, -1).cumsum(-1);
    // Drop a token when the tokens before it already reach top_p; the first always stays.
    torch::Tensor drop = (cum - torch::softmax(values, -1)) >= o.top_p;
    torch::Tensor drop_orig = torch::zeros_like(drop).scatter(-1, order, drop);
    x = x.masked_fill(drop_orig, neg_inf);
  }
  return x;
}

torch::Tensor choose_next_tokens(const torch::Tensor& logits, const SamplingOptions& o, at::Generator& generator) {
  if (!o.do_sample) return logits.argmax(-1).to(torch::kCPU, torch::kInt64);
  torch::Tensor probs = torch::softmax(filter_logits(logits, o), -1).to(torch::kCPU, torch::kFloat64);
  return torch::multinomial(probs, 1, /*replacement=*/false, generator).view({-1});
}

}  // namespace psy

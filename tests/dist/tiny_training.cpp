#include "tests/dist/tiny_training.h"

#include "libpsy/core/rng.h"
#include "libpsy/dist/epoch_shard.h"
#include "libpsy/dist/gradient_buckets.h"
#include "libpsy/train/adamw.h"
#include "libpsy/train/grad_clip.h"
#include "libpsy/train/weighted_loss.h"

namespace psy::test {

std::vector<TrainSequence> tiny_sequences(const TinyTrainConfig& c) {
  Rng rng(20240501);
  std::vector<TrainSequence> out;
  for (int i = 0; i < c.num_sequences; ++i) {
    TrainSequence s;
    const int len = c.min_len + static_cast<int>(rng.uniform_below(static_cast<uint64_t>(c.max_len - c.min_len + 1)));
    const int prompt = 1 + static_cast<int>(rng.uniform_below(static_cast<uint64_t>(len - 1)));
    for (int t = 0; t < len; ++t) {
      s.ids.push_back(1 + static_cast<int64_t>(rng.uniform_below(static_cast<uint64_t>(c.vocab - 1))));
      s.weights.push_back(t == 0 ? 0.0f : (t < prompt ? 0.1f : 1.0f));
    }
    out.push_back(std::move(s));
  }
  return out;
}

namespace {

struct TinyModel {
  torch::Tensor embed, w1, head;          // frozen
  torch::Tensor a1, b1, a2, b2;           // trainable
  torch::Tensor forward(const torch::Tensor& ids) const {
    torch::Tensor x = embed.index_select(0, ids.reshape({-1})).view({ids.size(0), ids.size(1), -1});
    // causal running mean, so a position sees its prefix
    torch::Tensor counts = torch::arange(1, ids.size(1) + 1, x.options()).view({1, -1, 1});
    x = x.cumsum(1) / counts;
    torch::Tensor h = torch::tanh(torch::matmul(x, w1.t()) + torch::matmul(torch::matmul(x, a1.t()), b1.t()) * 2.0);
    return torch::matmul(h, head.t()) + torch::matmul(torch::matmul(h, a2.t()), b2.t()) * 2.0;
  }
  std::vector<torch::Tensor> trainable() const { return {a1, b1, a2, b2}; }
};

TinyModel make_model(const TinyTrainConfig& c, int rank) {
  TinyModel m;
  torch::manual_seed(7);
  m.embed = torch::randn({c.vocab, c.hidden});
  m.w1 = torch::randn({c.hidden, c.hidden}) / std::sqrt(c.hidden);
  m.head = torch::randn({c.vocab, c.hidden}) / std::sqrt(c.hidden);
  // Ranks other than 0 start from different adapter values: broadcast must fix that.
  torch::manual_seed(100 + rank);
  m.a1 = (torch::randn({c.rank, c.hidden}) / std::sqrt(c.hidden)).requires_grad_();
  m.b1 = (torch::randn({c.hidden, c.rank}) * 0.05).requires_grad_();
  m.a2 = (torch::randn({c.rank, c.hidden}) / std::sqrt(c.hidden)).requires_grad_();
  m.b2 = (torch::randn({c.vocab, c.rank}) * 0.05).requires_grad_();
  return m;
}

}  // namespace

TinyTrainResult train_tiny(const dist::ProcessGroup& group, const TinyTrainConfig& c) {
  const auto seqs = tiny_sequences(c);
  std::vector<Batch> batches;
  for (int i = 0; i < c.num_sequences; i += c.micro_batch) {
    std::vector<const TrainSequence*> members;
    for (int j = i; j < std::min(c.num_sequences, i + c.micro_batch); ++j) members.push_back(&seqs[static_cast<size_t>(j)]);
    batches.push_back(collate(members, 0));
  }
  TinyModel model = make_model(c, group.rank());
  const auto params = model.trainable();
  dist::broadcast_parameters(group, params, 0);
  AdamW opt(params, AdamWOptions{c.lr, 0.9, 0.999, 1e-8, 0.01});

  TinyTrainResult result;
  const auto steps = dist::shard_epoch(batches.size(), group.rank(), group.world_size(), c.grad_accum);
  for (const auto& step : steps) {
    double local = 0;
    for (size_t b : step) local += loss_denominator(batches[b].label_weights, PlwNormalization::WeightSum);
    const double denom = c.mean_of_rank_means ? local : group.all_reduce_sum(local);
    double local_sum = 0;
    for (size_t b : step) {
      torch::Tensor s = weighted_ce_sum(model.forward(batches[b].input_ids), batches[b].input_ids, batches[b].label_weights);
      local_sum += s.item<double>();
      (s / denom).backward();
    }
    dist::all_reduce_gradients(group, params);
    if (c.mean_of_rank_means) {
      torch::NoGradGuard ng;
      for (const auto& p : params) p.mutable_grad().div_(group.world_size());
    }
    result.losses.push_back(group.all_reduce_sum(local_sum) / group.all_reduce_sum(local));
    clip_grad_norm(params, c.max_grad_norm);
    opt.step();
    opt.zero_grad();
  }
  for (const auto& p : params) result.params.push_back(p.detach().clone());
  return result;
}

}  // namespace psy::test

// Loss weighting and normalisation, gradient accumulation, clipping, schedules, batching.
#include <cmath>
#include <numeric>

#include "tests/io/torch_catch.h"

#include "libpsy/train/batch_plan.h"
#include "libpsy/train/collate.h"
#include "libpsy/train/grad_clip.h"
#include "libpsy/train/loss_scaler.h"
#include "libpsy/train/lr_schedule.h"
#include "libpsy/train/weighted_loss.h"

using namespace psy;

TEST_CASE("weighted next-token loss is sum(w*CE)/sum(w) over the label-aligned weights") {
  torch::manual_seed(3);
  torch::Tensor logits = torch::randn({1, 4, 5});
  torch::Tensor ids = torch::tensor({{1, 3, 0, 4}}, torch::kLong);
  torch::Tensor w = torch::tensor({{9.0f, 0.1f, 1.0f, 0.0f}});  // w[0] is never used
  auto logp = torch::log_softmax(logits, -1);
  double ce0 = -logp[0][0][3].item<double>(), ce1 = -logp[0][1][0].item<double>();
  double expect = (0.1 * ce0 + 1.0 * ce1) / 1.1;
  CHECK(weighted_next_token_loss(logits, ids, w).item<double>() == Approx(expect).epsilon(1e-6));
  // nonzero_tokens divides by the count of targets with non-zero weight (2).
  CHECK(weighted_next_token_loss(logits, ids, w, PlwNormalization::NonzeroTokens).item<double>() ==
        Approx((0.1 * ce0 + 1.0 * ce1) / 2).epsilon(1e-6));
  CHECK(parse_plw_normalization("weight_sum") == PlwNormalization::WeightSum);
  CHECK_THROWS(parse_plw_normalization("mean"));
}

TEST_CASE("a zero-weight target with an infinite CE contributes exactly zero") {
  torch::Tensor logits = torch::zeros({1, 3, 4});
  logits[0][1][2] = -std::numeric_limits<float>::infinity();
  torch::Tensor ids = torch::tensor({{1, 0, 2}}, torch::kLong);
  torch::Tensor w = torch::tensor({{0.0f, 1.0f, 0.0f}});
  double loss = weighted_next_token_loss(logits, ids, w).item<double>();
  CHECK(std::isfinite(loss));
  CHECK(loss == Approx(std::log(4.0)).epsilon(1e-6));
}

TEST_CASE("accumulated micro-batches with the step denominator give the big batch's gradients") {
  torch::manual_seed(7);
  torch::Tensor proj = torch::randn({8, 11}).set_requires_grad(true);
  torch::Tensor x = torch::randn({3, 6, 8});
  torch::Tensor ids = torch::randint(0, 11, {3, 6}, torch::kLong);
  torch::Tensor w = torch::rand({3, 6});
  w[2].slice(0, 2).zero_();  // padding in the third sample: its micro-batch has fewer targets
  auto logits_of = [&](const torch::Tensor& xb) { return torch::matmul(xb, proj); };

  for (auto norm : {PlwNormalization::WeightSum, PlwNormalization::NonzeroTokens}) {
    proj.mutable_grad() = torch::Tensor();
    weighted_next_token_loss(logits_of(x), ids, w, norm).backward();
    torch::Tensor big = proj.grad().clone();

    proj.mutable_grad() = torch::Tensor();
    std::vector<torch::Tensor> parts_w = {w.slice(0, 0, 2), w.slice(0, 2, 3)};
    double denom = step_denominator(parts_w, norm);
    double total_loss = 0;
    for (int p = 0; p < 2; ++p) {
      auto sl = [&](const torch::Tensor& t) { return p == 0 ? t.slice(0, 0, 2) : t.slice(0, 2, 3); };
      torch::Tensor l = weighted_next_token_loss(logits_of(sl(x)), sl(ids), sl(w), denom);
      total_loss += l.item<double>();
      l.backward();
    }
    CHECK(torch::allclose(proj.grad(), big, 1e-5, 1e-6));
    CHECK(total_loss == Approx(weighted_next_token_loss(logits_of(x), ids, w, norm).item<double>()).epsilon(1e-5));
  }
}

TEST_CASE("global-norm clipping scales by min(1, max/(norm+1e-6))") {
  torch::Tensor a = torch::zeros({2}).set_requires_grad(true), b = torch::zeros({1}).set_requires_grad(true);
  a.mutable_grad() = torch::tensor({3.0f, 0.0f});
  b.mutable_grad() = torch::tensor({4.0f});
  ClipResult r = clip_grad_norm({a, b}, 1.0);
  CHECK(r.total_norm == Approx(5.0));
  CHECK(r.clip_coef == Approx(1.0 / (5.0 + 1e-6)));
  CHECK(a.grad()[0].item<double>() == Approx(3.0 / 5.0).epsilon(1e-5));
  ClipResult r2 = clip_grad_norm({a, b}, 10.0);  // below the limit: unchanged
  CHECK(r2.clip_coef == 1.0);
  CHECK(b.grad()[0].item<double>() == Approx(0.8).epsilon(1e-5));
}

TEST_CASE("schedules: warmup, constant, linear, cosine with a floor") {
  LrSchedule s;
  s.lr = 1.0;
  s.total_steps = 10;
  s.warmup_steps = 2;
  s.kind = ScheduleKind::Cosine;
  CHECK(s.at(0) == 0.0);
  CHECK(s.at(1) == Approx(0.5));
  CHECK(s.at(2) == Approx(1.0));
  CHECK(s.at(6) == Approx(0.5));
  CHECK(s.at(10) == Approx(0.0).margin(1e-12));
  s.min_lr_ratio = 0.1;
  CHECK(s.at(10) == Approx(0.1));
  CHECK(s.at(6) == Approx(0.55));
  s.kind = ScheduleKind::Linear;
  CHECK(s.at(6) == Approx(0.1 + 0.9 * 0.5));
  s.kind = ScheduleKind::Constant;
  CHECK(s.at(9) == 1.0);
  CHECK(resolve_warmup_steps(100, 0, 0.03) == 3);
  CHECK(resolve_warmup_steps(10, 0, 0.03) == 1);
  CHECK(resolve_warmup_steps(10, 4, 0.5) == 4);
  CHECK_THROWS(parse_schedule("step"));
}

TEST_CASE("length-grouped batches: every sample once, seeded, less padding, longest first") {
  std::vector<size_t> lengths;
  for (size_t i = 0; i < 97; ++i) lengths.push_back(5 + (i * 37) % 200);
  auto grouped = plan_epoch(lengths, 4, true, 66, 0);
  auto plain = plan_epoch(lengths, 4, false, 66, 0);
  auto again = plan_epoch(lengths, 4, true, 66, 0);
  CHECK(grouped == again);
  CHECK(plan_epoch(lengths, 4, true, 66, 1) != grouped);
  std::vector<size_t> seen;
  for (const auto& b : grouped) seen.insert(seen.end(), b.begin(), b.end());
  std::sort(seen.begin(), seen.end());
  std::vector<size_t> all(lengths.size());
  std::iota(all.begin(), all.end(), 0);
  CHECK(seen == all);
  size_t pad_grouped = 0, pad_plain = 0;
  for (const auto& b : grouped) pad_grouped += padded_tokens(lengths, b);
  for (const auto& b : plain) pad_plain += padded_tokens(lengths, b);
  CHECK(pad_grouped < pad_plain * 0.8);
  CHECK(lengths[grouped[0][0]] == *std::max_element(lengths.begin(), lengths.end()));
}

TEST_CASE("packing fills bins up to the limit; collate right-pads with zero weights") {
  std::vector<size_t> lengths = {5, 3, 7, 2, 8, 1};
  auto bins = plan_packs(lengths, 8, 1);
  size_t n = 0;
  for (const auto& b : bins) {
    size_t sum = 0;
    for (size_t i : b) sum += lengths[i];
    CHECK(sum <= 8);
    n += b.size();
  }
  CHECK(n == lengths.size());
  CHECK(bins.size() <= 4);

  TrainSequence a{{1, 5, 6}, {0, 0.1f, 1}, {}}, b{{1, 7}, {0, 1}, {}};
  Batch batch = collate({&a, &b}, 0);
  CHECK(batch.input_ids.sizes() == torch::IntArrayRef({2, 3}));
  CHECK(batch.input_ids[1][2].item<int64_t>() == 0);
  CHECK(batch.attention_mask[1][2].item<int64_t>() == 0);
  CHECK(batch.label_weights[1][2].item<float>() == 0);
  CHECK(batch.label_weights[0][1].item<float>() == Approx(0.1f));
  CHECK(batch.real_tokens == 5);
  TrainSequence packed = pack_sequences({&a, &b});
  CHECK(packed.ids == std::vector<int64_t>{1, 5, 6, 1, 7});
  CHECK(packed.weights[3] == 0.0f);
  CHECK(packed.weights[4] == 1.0f);
}

TEST_CASE("fp16 loss scaling: overflow skips the step and halves the scale; growth doubles it") {
  LossScaler s;
  s.enabled = true;
  s.scale = 1024;
  s.growth_interval = 2;
  torch::Tensor p = torch::zeros({2}).set_requires_grad(true);
  CHECK(s.scale_loss(torch::ones({})).item<double>() == 1024);
  p.mutable_grad() = torch::tensor({2048.0f, std::numeric_limits<float>::infinity()});
  CHECK_FALSE(s.unscale_and_check({p}));
  CHECK(s.scale == 512);
  p.mutable_grad() = torch::tensor({512.0f, 1024.0f});
  CHECK(s.unscale_and_check({p}));
  CHECK(p.grad()[1].item<float>() == 2.0f);
  p.mutable_grad() = torch::tensor({512.0f, 1024.0f});
  CHECK(s.unscale_and_check({p}));
  CHECK(s.scale == 1024);
  LossScaler off;
  CHECK(off.unscale_and_check({p}));
}

// Two Gloo ranks on loopback vs one process over the same global batches.
#include "tests/io/torch_catch.h"

#include <iostream>

#include "libpsy/dist/launcher.h"
#include "libpsy/dist/process_group.h"
#include "tests/dist/loop_training.h"
#include "tests/dist/tiny_training.h"
#include "tests/test_support.h"

using namespace psy;

namespace {

std::vector<torch::Tensor> run_two_ranks(const std::string& out, bool wrong) {
  dist::LaunchOptions o;
  o.nproc = 2;
  o.executable = PSY_DIST_WORKER;
  o.args = {"train", out};
  if (wrong) o.args.push_back("wrong");
  auto r = dist::launch_local(o);
  INFO(r.error);
  REQUIRE(r.exit_code == 0);
  std::vector<torch::Tensor> saved;
  torch::load(saved, out);
  return saved;
}

double max_diff(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, (a[i] - b[i]).abs().max().item<double>());
  return m;
}

}  // namespace

TEST_CASE("data parallel (2 Gloo ranks) equals one process over the same global batches", "[dist][dp]") {
  torch::set_num_threads(1);
  test::TempDir dir;
  test::TinyTrainConfig single_config;
  single_config.grad_accum = 4;  // = 2 ranks x 2 accumulation steps
  auto single = test::train_tiny(dist::ProcessGroup(), single_config);
  REQUIRE(single.losses.size() == 4);  // 13 micro-batches of 2 -> 4 steps, the last one partial
  CHECK(single.losses.back() < single.losses.front());

  auto parallel = run_two_ranks(dir.file("dp.pt"), false);
  REQUIRE(parallel.size() == single.params.size() + 1);
  torch::Tensor losses = parallel.back();
  parallel.pop_back();
  const double diff = max_diff(parallel, single.params);
  std::cout << "data parallel vs single process: max |adapter difference| after 4 AdamW steps = " << diff << "\n";
  CHECK(diff < 1e-5);
  for (size_t s = 0; s < single.losses.size(); ++s) CHECK(losses[static_cast<long>(s)].item<double>() == Approx(single.losses[s]).epsilon(1e-6));

  // A mean of per-rank means (the wrong denominator) lands far outside that tolerance.
  auto wrong = run_two_ranks(dir.file("wrong.pt"), true);
  wrong.pop_back();
  const double wrong_diff = max_diff(wrong, single.params);
  std::cout << "mean of per-rank means vs single process: " << wrong_diff << "\n";
  CHECK(wrong_diff > 1e-3);
}

TEST_CASE("psy's training loop, data parallel on 2 Gloo ranks, equals one process", "[dist][dp][loop]") {
  torch::set_num_threads(1);
  test::TempDir dir;
  // 2 ranks x grad_accum 2 vs 1 process x grad_accum 4: the same 8 micro-batches per step.
  auto single = test::train_with_loop(dist::ProcessGroup(), 4);
  dist::LaunchOptions o;
  o.nproc = 2;
  o.executable = PSY_DIST_WORKER;
  o.args = {"loop", dir.file("loop.pt"), "2"};
  auto r = dist::launch_local(o);
  INFO(r.error);
  REQUIRE(r.exit_code == 0);
  std::vector<torch::Tensor> parallel;
  torch::load(parallel, dir.file("loop.pt"));
  REQUIRE(parallel.size() == single.size());
  const double diff = max_diff(std::vector<torch::Tensor>(parallel.begin(), parallel.end() - 1),
                               std::vector<torch::Tensor>(single.begin(), single.end() - 1));
  std::cout << "run_training, 2 ranks vs 1 process: max |adapter difference| after 3 steps = " << diff
            << ", losses " << parallel.back() << " vs " << single.back() << "\n";
  CHECK(diff < 1e-5);
  CHECK(torch::allclose(parallel.back(), single.back(), 1e-6, 1e-9));
}

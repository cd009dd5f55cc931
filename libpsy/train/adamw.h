// AdamW with decoupled weight decay, numerically identical to torch.optim.AdamW
// (amsgrad off, maximize off):
//   p *= 1 - lr*wd;  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
//   p -= lr/(1-b1^k) * m / (sqrt(v)/sqrt(1-b2^k) + eps)        at step k = 1, 2, ...
// Parameters without a gradient (undefined .grad()) are skipped, as torch does. The state
// (step count and moments) can be saved and restored for exact resumption.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace psy {

struct AdamWOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.01;
};

class AdamW {
 public:
  // `decay[i]` says whether parameter i gets weight decay (empty = all do).
  AdamW(std::vector<torch::Tensor> params, AdamWOptions options, std::vector<bool> decay = {});

  // One update with learning rate `lr` (the schedule's value for this step).
  void step(double lr);
  void step() { step(options_.lr); }
  void zero_grad();

  int64_t steps_taken() const { return step_; }
  const std::vector<torch::Tensor>& params() const { return params_; }
  const AdamWOptions& options() const { return options_; }

  // Moments as named tensors ("exp_avg.<i>", "exp_avg_sq.<i>") plus the step count.
  std::map<std::string, torch::Tensor> state_tensors() const;
  // Restores what state_tensors() returned; throws psy::Error on a mismatch of count or shape.
  void load_state(const std::map<std::string, torch::Tensor>& state, int64_t steps_taken);

 private:
  std::vector<torch::Tensor> params_;
  AdamWOptions options_;
  std::vector<bool> decay_;
  std::vector<torch::Tensor> exp_avg_, exp_avg_sq_;
  int64_t step_ = 0;
};

}  // namespace psy

#include "libpsy/train/activation_checkpoint.h"

#include <ATen/Context.h>
#include <torch/csrc/autograd/custom_function.h>

namespace psy {

namespace {

struct BlockHolder : torch::CustomClassHolder {
  explicit BlockHolder(BlockFn f) : fn(std::move(f)) {}
  BlockFn fn;
};

// The generator that dropout on `device` draws from (the CPU one, or that CUDA device's own):
// the recomputation in backward must draw the same masks as the forward did.
at::Generator generator_for(const torch::Device& device) {
  return at::globalContext().defaultGenerator(device.is_cuda() && !device.has_index()
                                                  ? torch::Device(torch::kCUDA, 0)
                                                  : device);
}
torch::Tensor rng_state(const torch::Device& device) {
  at::Generator gen = generator_for(device);
  std::lock_guard<std::mutex> lock(gen.mutex());
  return gen.get_state();
}
void set_rng_state(const torch::Device& device, const torch::Tensor& s) {
  at::Generator gen = generator_for(device);
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(s);
}

struct CheckpointFunction : torch::autograd::Function<CheckpointFunction> {
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx, torch::Tensor x,
                                                torch::Tensor /*anchor*/, c10::intrusive_ptr<BlockHolder> block) {
    ctx->saved_data["block"] = c10::IValue::make_capsule(block);
    ctx->saved_data["rng"] = rng_state(x.device());
    ctx->saved_data["x_requires_grad"] = x.requires_grad();
    ctx->save_for_backward({x});
    torch::NoGradGuard no_grad;
    return {block->fn(x)};
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_out) {
    auto holder = c10::static_intrusive_pointer_cast<BlockHolder>(ctx->saved_data["block"].toCapsule());
    torch::Tensor x = ctx->get_saved_variables()[0].detach().requires_grad_(true);
    torch::Tensor rng_now = rng_state(x.device());
    set_rng_state(x.device(), ctx->saved_data["rng"].toTensor());
    torch::Tensor y;
    {
      torch::AutoGradMode enable(true);
      y = holder->fn(x);
    }
    set_rng_state(x.device(), rng_now);
    if (y.requires_grad()) torch::autograd::backward({y}, {grad_out[0]});
    torch::Tensor dx = ctx->saved_data["x_requires_grad"].toBool() ? x.grad() : torch::Tensor();
    return {dx, torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor checkpointed(const BlockFn& fn, const torch::Tensor& x) {
  if (!torch::GradMode::is_enabled()) return fn(x);
  torch::Tensor anchor = torch::zeros({0}, x.options().dtype(torch::kFloat32)).requires_grad_(true);
  auto holder = c10::make_intrusive<BlockHolder>(fn);
  return CheckpointFunction::apply(x, anchor, holder)[0];
}

}  // namespace psy

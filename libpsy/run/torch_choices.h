// The recipe's typed choices as LibTorch values (header only): a dtype as a scalar type, a
// device name as a torch::Device. No string is parsed again.
#pragma once
#include <torch/torch.h>

#include "libpsy/recipe/recipe_choices.h"

namespace psy {

inline torch::ScalarType scalar_type_of(WeightDtype dtype) {
  switch (dtype) {
    case WeightDtype::Bf16: return torch::kBFloat16;
    case WeightDtype::Fp16: return torch::kHalf;
    case WeightDtype::Fp32: break;
  }
  return torch::kFloat32;
}

inline torch::Device torch_device(const DeviceName& d) {
  const auto type = d.is_cuda() ? torch::kCUDA : torch::kCPU;
  return d.index >= 0 ? torch::Device(type, static_cast<c10::DeviceIndex>(d.index)) : torch::Device(type);
}

}  // namespace psy

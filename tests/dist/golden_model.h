// Helpers for the dist tests that use ../shared/golden/llama models.
#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

namespace psy::test {

struct GoldenInputs {
  torch::Tensor ids, mask;                 // the padded "batch" (2 sequences)
  torch::Tensor plw_ids, plw_weights;      // the "plw" sequence [1, N] and label-aligned weights
};

// Reads DIR/inputs.json.
GoldenInputs golden_inputs(const std::string& dir);

// Max |a - b| over the real positions (mask == 1) of logits [B, T, V].
double masked_max_diff(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& mask);

}  // namespace psy::test

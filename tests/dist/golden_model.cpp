#include "tests/dist/golden_model.h"

#include <nlohmann/json.hpp>

#include "tests/test_support.h"

namespace psy::test {

namespace {
torch::Tensor matrix(const nlohmann::json& rows) {
  std::vector<int64_t> flat;
  for (const auto& row : rows)
    for (const auto& x : row) flat.push_back(x.get<int64_t>());
  return torch::tensor(flat).view({static_cast<int64_t>(rows.size()), -1});
}
}  // namespace

GoldenInputs golden_inputs(const std::string& dir) {
  auto j = nlohmann::json::parse(read_file(dir + "/inputs.json"));
  GoldenInputs g;
  g.ids = matrix(j["batch"]["input_ids"]);
  g.mask = matrix(j["batch"]["attention_mask"]);
  std::vector<int64_t> ids = j["plw"]["input_ids"].get<std::vector<int64_t>>();
  std::vector<float> tw = j["plw"]["target_weights"].get<std::vector<float>>();
  std::vector<float> w = {0.0f};
  w.insert(w.end(), tw.begin(), tw.end());
  g.plw_ids = torch::tensor(ids).view({1, -1});
  g.plw_weights = torch::tensor(w).view({1, -1});
  return g;
}

double masked_max_diff(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& mask) {
  torch::Tensor m = mask.to(torch::kBool).unsqueeze(-1).expand_as(a);
  return (a - b).abs().masked_select(m).max().item<double>();
}

}  // namespace psy::test

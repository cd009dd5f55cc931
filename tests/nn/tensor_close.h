// Comparing a custom training Function with the LibTorch composition it replaces: tensors equal
// within 1e-5 relative to the reference's largest magnitude (fp32 rounding).
#pragma once
#include "tests/io/torch_catch.h"

namespace psy::test {

// max |a - b| relative to max |b|.
inline double relative_difference(const torch::Tensor& a, const torch::Tensor& b) {
  const double scale = b.abs().max().item<double>();
  return (a - b).abs().max().item<double>() / (scale > 0 ? scale : 1.0);
}

inline void check_close(const torch::Tensor& a, const torch::Tensor& b, const char* what) {
  INFO(what);
  REQUIRE(a.defined());
  REQUIRE(a.sizes() == b.sizes());
  CHECK(relative_difference(a, b) < 1e-5);
}

}  // namespace psy::test

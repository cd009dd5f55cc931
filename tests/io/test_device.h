// The device that device-aware tests run on: env PSY_TEST_DEVICE ("cpu" by default; "cuda" on a
// GPU machine, see README "GPU"). Tests compare on the CPU, so only the computation moves.
#pragma once
#include <cstdlib>
#include <string>

#include <torch/torch.h>

namespace psy::test {

inline torch::Device test_device() {
  const char* name = std::getenv("PSY_TEST_DEVICE");
  return torch::Device(name != nullptr && *name != '\0' ? std::string(name) : std::string("cpu"));
}

}  // namespace psy::test

// psy: fine-tune and evaluate counseling-dialogue language models.
#include <exception>
#include <iostream>

#include "libpsy/core/error.h"
#include "libpsy/runtime/runtime.h"
#include "trainers/commands.h"

namespace {

int print_version() {
  psy::set_threads(0);
  const auto info = psy::runtime_info();
  std::cout << "psy " << PSY_VERSION << "\n"
            << "LibTorch " << info.torch_version << "\n"
            << "CUDA " << (info.cuda_available ? "available" : "not available") << ", "
            << info.cuda_devices << " device" << (info.cuda_devices == 1 ? "" : "s") << "\n"
            << "BLAS " << info.blas << "\n"
            << "threads " << info.threads << " (of " << psy::available_cores() << " cores)\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (!args.empty() && args[0] == "--version") return print_version();
    return psy::cli::dispatch("psy", psy::cli::commands(), args);
  } catch (const psy::Error& e) {
    std::cerr << "psy: error: " << e.what() << "\n";
    return e.exit_code();
  } catch (const std::exception& e) {
    std::cerr << "psy: error: " << e.what() << "\n";
    return psy::kExitFailure;
  }
}

// psy: fine-tune and evaluate counseling-dialogue language models.
#include <csignal>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <new>

#include <c10/util/Exception.h>

#include "libpsy/core/error.h"
#include "libpsy/runtime/process_environment.h"
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
            << "BLAS " << info.blas << "\n";
  if (!info.blas_core.empty())
    std::cout << "OpenBLAS core " << info.blas_core << (std::getenv("OPENBLAS_CORETYPE") ? " (OPENBLAS_CORETYPE)" : "")
              << "\n";
  std::cout << "threads " << info.threads << " (of " << psy::available_cores() << " cores)\n"
            << "OpenMP wait policy " << psy::openmp_wait_policy() << "\n";
  return 0;
}

bool debug_enabled() {
  const char* v = std::getenv("PSY_DEBUG");
  return v && std::string(v) == "1";
}

std::string first_line(const std::string& s) {
  const auto nl = s.find('\n');
  std::string line = nl == std::string::npos ? s : s.substr(0, nl);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

// "psy logits --model m --input ids.txt": the operation and its inputs, for errors that do not
// name them (LibTorch's, the allocator's).
std::string invocation(const std::vector<std::string>& args) {
  std::string out = "psy";
  for (const auto& a : args) {
    if (out.size() > 200) return out + " ...";
    out += " " + a;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  psy::settle_process_environment(argv);
  // A file-size limit (ulimit -f) must fail a write with EFBIG, reported in one line with the
  // temporary file removed, not kill the process by SIGXFSZ midway.
  std::signal(SIGXFSZ, SIG_IGN);
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (!args.empty() && args[0] == "--version") return print_version();
    return psy::cli::dispatch("psy", psy::cli::commands(), args);
  } catch (const psy::Error& e) {
    std::cerr << "psy: error: " << e.what() << "\n";
    return e.exit_code();
  } catch (const c10::Error& e) {
    // LibTorch's message carries a stack trace of 20+ lines: one line unless PSY_DEBUG=1.
    if (debug_enabled()) std::cerr << "psy: error: " << invocation(args) << ": " << e.what() << "\n";
    else
      std::cerr << "psy: error: " << invocation(args) << ": LibTorch failed: " << first_line(e.what_without_backtrace())
                << " (PSY_DEBUG=1 shows the stack trace)\n";
    return psy::kExitFailure;
  } catch (const std::bad_alloc&) {
    std::cerr << "psy: error: " << invocation(args) << ": out of memory\n";
    return psy::kExitFailure;
  } catch (const std::exception& e) {
    std::cerr << "psy: error: " << invocation(args) << ": " << first_line(e.what()) << "\n";
    return psy::kExitFailure;
  }
}

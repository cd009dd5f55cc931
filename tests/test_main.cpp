// The test runner: Catch2's, started the way psy starts (libpsy/runtime/process_environment.h:
// OpenMP's passive wait policy, OpenBLAS kernels for this CPU) so that tests time what users run.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "libpsy/runtime/process_environment.h"

int main(int argc, char** argv) {
  psy::settle_process_environment(argv);
  return Catch::Session().run(argc, argv);
}

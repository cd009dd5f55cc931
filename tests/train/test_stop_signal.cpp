// SIGINT/SIGTERM: the first asks the training loop to stop at a step boundary; a second one
// while the first is pending ends the process at once (checked in a child process: this test
// executable run again for a hidden test case).
#include <catch2/catch.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <sys/wait.h>

#include "libpsy/train/stop_signal.h"

namespace fs = std::filesystem;

TEST_CASE("stop-signal child process (run by the test below)", "[.stop_signal_child]") {
  if (!std::getenv("PSY_TEST_STOP_SIGNAL_CHILD")) return;
  psy::StopSignalScope scope;
  std::raise(SIGINT);
  std::cout << "after first: requested " << scope.requested() << std::endl;
  std::raise(SIGINT);
  std::cout << "survived the second signal" << std::endl;
}

TEST_CASE("the first SIGINT requests a stop; a second one ends the process") {
  {
    psy::StopSignalScope scope;
    CHECK_FALSE(scope.requested());
    std::raise(SIGINT);
    CHECK(scope.requested());
    CHECK(scope.signal_number() == SIGINT);
  }
  const std::string self = fs::read_symlink("/proc/self/exe").string();
  const std::string cmd = "PSY_TEST_STOP_SIGNAL_CHILD=1 '" + self + "' '[.stop_signal_child]'; echo \"status $?\"";
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p);
  std::string out;
  char buf[4096];
  size_t n = 0;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  INFO(out);
  CHECK_THAT(out, Catch::Contains("after first: requested 1"));
  CHECK_THAT(out, !Catch::Contains("survived"));
  CHECK_THAT(out, Catch::Contains("status 130"));  // the shell's code for a process ended by SIGINT
}

#include <catch2/catch.hpp>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "libpsy/dist/launcher.h"
#include "tests/test_support.h"

using namespace psy::dist;
using Clock = std::chrono::steady_clock;

TEST_CASE("launcher: every rank succeeds", "[dist][launcher]") {
  LaunchOptions o;
  o.nproc = 3;
  o.executable = PSY_DIST_WORKER;
  o.args = {"collectives"};
  LaunchResult r = launch_local(o);
  INFO(r.error);
  CHECK(r.exit_code == 0);
  CHECK(r.failed_rank == -1);
}

TEST_CASE("launcher: a failing rank stops the others and its error is reported", "[dist][launcher]") {
  LaunchOptions o;
  o.nproc = 3;
  o.executable = PSY_DIST_WORKER;
  o.args = {"fail", "1", "3"};
  o.grace_seconds = 2;
  auto t0 = Clock::now();
  LaunchResult r = launch_local(o);
  double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  CHECK(r.exit_code == 3);
  CHECK(r.failed_rank == 1);
  CHECK(r.error == "rank 1 exited with code 3: error: rank 1 could not read the batch (on purpose)");
  CHECK(seconds < 40);  // the others would have slept 60 s (rank start-up alone takes ~10 s on a loaded 2-core box)
}

TEST_CASE("launcher: SIGTERM is forwarded to every rank", "[dist][launcher]") {
  psy::test::TempDir dir;
  LaunchOptions o;
  o.nproc = 2;
  o.executable = PSY_DIST_WORKER;
  o.args = {"wait", dir.path()};
  std::thread sender([&] {
    for (int i = 0; i < 200; ++i) {
      if (std::filesystem::exists(dir.file("started.0")) && std::filesystem::exists(dir.file("started.1"))) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ::kill(::getpid(), SIGTERM);
  });
  LaunchResult r = launch_local(o);
  sender.join();
  CHECK(r.signal_received == SIGTERM);
  CHECK(r.exit_code == 128 + SIGTERM);
  CHECK(psy::test::read_file(dir.file("signal.0")) == std::to_string(SIGTERM));
  CHECK(psy::test::read_file(dir.file("signal.1")) == std::to_string(SIGTERM));
}

TEST_CASE("launcher: a missing executable is a clear error", "[dist][launcher]") {
  LaunchOptions o;
  o.nproc = 2;
  o.executable = "/nonexistent/psy";
  CHECK_THROWS_WITH(launch_local(o), Catch::Contains("/nonexistent/psy"));
}

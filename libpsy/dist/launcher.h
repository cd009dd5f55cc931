// psy's built-in launcher (`psy train --nproc N RECIPE`): starts N ranks of an executable on
// this machine with torchrun's environment, like `torchrun --standalone --nproc_per_node N`.
// LibTorch-free (POSIX fork/exec).
//
// Each rank gets RANK = LOCAL_RANK = i, WORLD_SIZE = LOCAL_WORLD_SIZE = N, GROUP_RANK = 0,
// MASTER_ADDR, MASTER_PORT (a free port on the loopback interface unless given), and
// OMP_NUM_THREADS = max(1, cores / N) when the caller's environment does not set it. stdout is
// shared; each rank's stderr goes through the launcher, prefixed with "[rank i] ".
// SIGINT and SIGTERM received by the launcher are forwarded to every rank. When a rank fails
// (non-zero exit or killed by a signal) the others get SIGTERM, then SIGKILL after
// grace_seconds, and the result names that rank, its exit code and its last error line.
#pragma once
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace psy::dist {

struct LaunchOptions {
  int nproc = 1;
  std::string executable;                 // "" = this executable (/proc/self/exe)
  std::vector<std::string> args;          // arguments after the program name
  std::string master_addr = "127.0.0.1";
  int master_port = 0;                    // 0 = pick a free port on master_addr
  std::vector<std::pair<std::string, std::string>> env;  // extra variables for every rank
  double grace_seconds = 10.0;            // SIGTERM -> SIGKILL delay when stopping ranks
  bool prefix_stderr = true;              // "[rank i] " before each stderr line
};

struct LaunchResult {
  int exit_code = 0;        // 0 when every rank succeeded; else the failed rank's code (128+signal if killed)
  int failed_rank = -1;     // the first rank that failed, -1 if none
  std::string error;        // one line: "rank 1 exited with code 2: error: ..." ("" on success)
  int signal_received = 0;  // SIGINT/SIGTERM the launcher itself got and forwarded (0 = none)
};

// Runs the ranks to completion. Throws psy::Error (exit code 1) when a rank cannot be started.
LaunchResult launch_local(const LaunchOptions& options);

// A TCP port that is free on `address` right now (bind to port 0 and read it back).
int pick_free_port(const std::string& address = "127.0.0.1");

// For `psy <subcommand> --nproc N ...`: when nproc > 1 and this process is not already a rank
// (RANK/WORLD_SIZE unset), runs N ranks of this executable with the same command line minus
// --nproc, prints the failing rank's error line to stderr, and returns the exit code to exit
// with. Returns nullopt when the caller should just run (nproc <= 1, or already a rank).
std::optional<int> launch_ranks_if_requested(const std::string& subcommand, const std::vector<std::string>& args,
                                             int nproc);

// `args` without option `name` and its value ("--nproc 2" or "--nproc=2"), for re-running
// the same command line in each rank.
std::vector<std::string> without_option(const std::vector<std::string>& args, const std::string& name);

// The line of a rank's stderr that best explains a failure: the last line containing
// "error" (any case), else the last non-empty line.
std::string last_error_line(const std::string& stderr_text);

}  // namespace psy::dist

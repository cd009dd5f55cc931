// A child process for the kill -9 reliability driver: started with fork/exec (stdout and stderr
// to files), watched without blocking, and killed with SIGKILL at a moment the driver chooses.
#pragma once
#include <sys/types.h>

#include <string>
#include <vector>

namespace psy::reliability {

class ChildProcess {
 public:
  // Starts `argv[0]` with the arguments argv[1..]; output goes to `out_file` and `err_file`.
  // Throws psy::Error (exit 1) when fork fails.
  ChildProcess(const std::vector<std::string>& argv, const std::string& out_file, const std::string& err_file);
  ~ChildProcess();  // kills and reaps a child still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // True once the child has exited (reaps it without blocking).
  bool finished();
  // SIGKILL now (when still running) and reap; returns true when the signal killed it, false
  // when it had already exited by itself.
  bool kill_now();
  // Blocks until the child exits.
  void wait();
  // Exit status once finished: the exit code, or 128 + signal.
  int exit_code() const { return exit_code_; }
  // Seconds since the start.
  double elapsed() const;

 private:
  pid_t pid_ = -1;
  bool done_ = false;
  int exit_code_ = -1;
  double started_ = 0;
  void record(int status);
};

// Monotonic seconds.
double monotonic_seconds();
// Sleeps the given seconds (fractions included).
void sleep_seconds(double s);

}  // namespace psy::reliability

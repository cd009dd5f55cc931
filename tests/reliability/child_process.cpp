#include "tests/reliability/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "libpsy/core/error.h"

namespace psy::reliability {

double monotonic_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

void sleep_seconds(double s) {
  if (s <= 0) return;
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(s);
  ts.tv_nsec = static_cast<long>((s - static_cast<double>(ts.tv_sec)) * 1e9);
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const std::string& out_file,
                           const std::string& err_file) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  started_ = monotonic_seconds();
  pid_ = fork();
  if (pid_ < 0) throw Error(std::string("fork failed (") + std::strerror(errno) + ")", kExitFailure);
  if (pid_ == 0) {
    int out = open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out >= 0) dup2(out, 1);
    if (err >= 0) dup2(err, 2);
    execv(args[0], args.data());
    const std::string why = std::string("exec ") + args[0] + " failed: " + std::strerror(errno) + "\n";
    (void)!write(2, why.data(), why.size());
    _exit(127);
  }
}

ChildProcess::~ChildProcess() {
  if (!done_) kill_now();
}

void ChildProcess::record(int status) {
  done_ = true;
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

bool ChildProcess::finished() {
  if (done_) return true;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) record(status);
  return done_;
}

bool ChildProcess::kill_now() {
  if (finished()) return false;
  ::kill(pid_, SIGKILL);
  wait();
  return exit_code_ == 128 + SIGKILL;
}

void ChildProcess::wait() {
  while (!done_) {
    int status = 0;
    pid_t r = waitpid(pid_, &status, 0);
    if (r == pid_) record(status);
    else if (r < 0 && errno != EINTR) done_ = true;
  }
}

double ChildProcess::elapsed() const { return monotonic_seconds() - started_; }

}  // namespace psy::reliability

#include "libpsy/dist/launcher.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <iostream>
#include <thread>

#include "libpsy/core/error.h"
#include "libpsy/dist/torchrun_env.h"

extern char** environ;

namespace psy::dist {

namespace {

// The one piece of process-wide state: a signal handler can only talk through it. Set by the
// handler, read and cleared by the launcher loop; handlers are installed only while it runs.
volatile sig_atomic_t g_pending_signal = 0;

extern "C" void launcher_on_signal(int sig) { g_pending_signal = sig; }

struct Rank {
  pid_t pid = -1;
  int err_fd = -1;       // read end of the rank's stderr pipe, -1 once closed
  bool running = false;
  int exit_code = 0;     // valid once !running
  std::string partial;   // stderr bytes after the last newline
  std::string tail;      // the last few KB of stderr, for the error line
};

using Clock = std::chrono::steady_clock;

bool is_torchrun_variable(const std::string& entry) {
  static const char* names[] = {"RANK=", "LOCAL_RANK=", "WORLD_SIZE=", "LOCAL_WORLD_SIZE=", "GROUP_RANK=",
                                "MASTER_ADDR=", "MASTER_PORT=", "TORCHELASTIC_USE_AGENT_STORE=",
                                "TORCHELASTIC_RESTART_COUNT="};
  for (const char* n : names)
    if (entry.rfind(n, 0) == 0) return true;
  return false;
}

std::vector<std::string> rank_environment(const LaunchOptions& o, int rank, int port) {
  std::vector<std::string> env;
  bool has_omp = false;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string entry(*e);
    if (is_torchrun_variable(entry)) continue;
    if (entry.rfind("OMP_NUM_THREADS=", 0) == 0) has_omp = true;
    env.push_back(entry);
  }
  for (const auto& kv : o.env) {
    if (kv.first == "OMP_NUM_THREADS") has_omp = true;
    env.push_back(kv.first + "=" + kv.second);
  }
  if (!has_omp) {
    unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    env.push_back("OMP_NUM_THREADS=" + std::to_string(std::max(1u, cores / static_cast<unsigned>(o.nproc))));
  }
  const std::string n = std::to_string(o.nproc), r = std::to_string(rank);
  env.push_back("RANK=" + r);
  env.push_back("LOCAL_RANK=" + r);
  env.push_back("GROUP_RANK=0");
  env.push_back("WORLD_SIZE=" + n);
  env.push_back("LOCAL_WORLD_SIZE=" + n);
  env.push_back("MASTER_ADDR=" + o.master_addr);
  env.push_back("MASTER_PORT=" + std::to_string(port));
  return env;
}

std::vector<char*> c_strings(std::vector<std::string>& items) {
  std::vector<char*> out;
  for (auto& s : items) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

void write_all(int fd, const std::string& text) {
  const char* p = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

void forward_stderr(Rank& r, int index, bool prefix, const char* data, std::size_t size) {
  r.tail.append(data, size);
  if (r.tail.size() > 16384) r.tail.erase(0, r.tail.size() - 8192);
  r.partial.append(data, size);
  std::size_t start = 0, nl;
  std::string out;
  while ((nl = r.partial.find('\n', start)) != std::string::npos) {
    if (prefix) out += "[rank " + std::to_string(index) + "] ";
    out.append(r.partial, start, nl + 1 - start);
    start = nl + 1;
  }
  r.partial.erase(0, start);
  if (!out.empty()) write_all(STDERR_FILENO, out);
}

// Reads what is available (or, with wait_ms > 0, until EOF or the time is up).
void pump(Rank& r, int index, bool prefix, int wait_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(wait_ms);
  char buf[4096];
  while (r.err_fd >= 0) {
    struct pollfd p = {r.err_fd, POLLIN, 0};
    int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
    int ready = ::poll(&p, 1, std::max(0, left));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return;
    ssize_t n = ::read(r.err_fd, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) {
      if (!r.partial.empty()) {
        r.partial += '\n';
        forward_stderr(r, index, prefix, "", 0);
      }
      ::close(r.err_fd);
      r.err_fd = -1;
      return;
    }
    forward_stderr(r, index, prefix, buf, static_cast<std::size_t>(n));
  }
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

std::string describe_exit(int code) {
  if (code > 128) return "was killed by signal " + std::to_string(code - 128) + " (" + strsignal(code - 128) + ")";
  return "exited with code " + std::to_string(code);
}

}  // namespace

int pick_free_port(const std::string& address) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw Error(std::string("launcher: cannot open a socket: ") + std::strerror(errno), kExitFailure);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  const std::string host = address == "localhost" ? "127.0.0.1" : address;
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    ::close(fd);
    throw Error("launcher: master address " + expected_found("an IPv4 address", "'" + address + "'"));
  }
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int e = errno;
    ::close(fd);
    throw Error("launcher: cannot bind to " + address + ": " + std::strerror(e), kExitFailure);
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::vector<std::string> without_option(const std::vector<std::string>& args, const std::string& name) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == name) {
      ++i;  // skip the value too
      continue;
    }
    if (args[i].rfind(name + "=", 0) == 0) continue;
    out.push_back(args[i]);
  }
  return out;
}

std::string last_error_line(const std::string& text) {
  std::string last_nonempty, last_error;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t nl = text.find('\n', start);
    std::string line = text.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") != std::string::npos) {
      last_nonempty = line;
      std::string lower = line;
      std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (lower.find("error") != std::string::npos) last_error = line;
    }
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return last_error.empty() ? last_nonempty : last_error;
}

LaunchResult launch_local(const LaunchOptions& o) {
  if (o.nproc < 1) throw Error("launcher: --nproc " + expected_found(">= 1", std::to_string(o.nproc)));
  const std::string exe = o.executable.empty() ? "/proc/self/exe" : o.executable;
  if (::access(exe.c_str(), X_OK) != 0)
    throw Error("launcher: cannot run '" + exe + "': " + std::strerror(errno), kExitFailure);
  const int port = o.master_port > 0 ? o.master_port : pick_free_port(o.master_addr);
  const bool prefix = o.prefix_stderr;

  struct sigaction action{}, old_int{}, old_term{};
  action.sa_handler = launcher_on_signal;
  sigemptyset(&action.sa_mask);
  g_pending_signal = 0;
  ::sigaction(SIGINT, &action, &old_int);
  ::sigaction(SIGTERM, &action, &old_term);
  auto restore = [&]() {
    ::sigaction(SIGINT, &old_int, nullptr);
    ::sigaction(SIGTERM, &old_term, nullptr);
  };

  std::vector<Rank> ranks(static_cast<std::size_t>(o.nproc));
  LaunchResult result;
  auto stop_all = [&](int sig) {
    for (auto& r : ranks)
      if (r.running) ::kill(r.pid, sig);
  };

  for (int i = 0; i < o.nproc; ++i) {
    std::vector<std::string> env = rank_environment(o, i, port);
    std::vector<std::string> argv_s;
    argv_s.push_back(exe);
    argv_s.insert(argv_s.end(), o.args.begin(), o.args.end());
    std::vector<char*> argv = c_strings(argv_s), envp = c_strings(env);
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
      stop_all(SIGKILL);
      restore();
      throw Error(std::string("launcher: pipe failed: ") + std::strerror(errno), kExitFailure);
    }
    const pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid == 0) {
      // Child: only async-signal-safe calls until execve.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(1);
      ::setpgid(0, 0);  // terminal signals reach the launcher only; it forwards them once
      ::dup2(fds[1], STDERR_FILENO);
      struct sigaction dfl{};
      dfl.sa_handler = SIG_DFL;
      ::sigaction(SIGINT, &dfl, nullptr);
      ::sigaction(SIGTERM, &dfl, nullptr);
      ::execve(exe.c_str(), argv.data(), envp.data());
      const char msg[] = "error: launcher: execve failed\n";
      ssize_t ignored = ::write(STDERR_FILENO, msg, sizeof msg - 1);
      (void)ignored;
      ::_exit(127);
    }
    ::close(fds[1]);
    if (pid < 0) {
      ::close(fds[0]);
      stop_all(SIGKILL);
      restore();
      throw Error(std::string("launcher: fork failed: ") + std::strerror(errno), kExitFailure);
    }
    ranks[static_cast<std::size_t>(i)].pid = pid;
    ranks[static_cast<std::size_t>(i)].err_fd = fds[0];
    ranks[static_cast<std::size_t>(i)].running = true;
  }

  bool stopping = false;
  Clock::time_point kill_at{};
  auto begin_stop = [&](int sig) {
    stop_all(sig);
    if (!stopping) kill_at = Clock::now() + std::chrono::milliseconds(static_cast<long>(o.grace_seconds * 1000));
    stopping = true;
  };

  std::size_t running = ranks.size();
  while (running > 0) {
    std::vector<struct pollfd> fds;
    std::vector<std::size_t> owner;
    for (std::size_t i = 0; i < ranks.size(); ++i)
      if (ranks[i].err_fd >= 0) {
        fds.push_back({ranks[i].err_fd, POLLIN, 0});
        owner.push_back(i);
      }
    if (!fds.empty()) {
      int ready = ::poll(fds.data(), fds.size(), 100);
      if (ready > 0)
        for (std::size_t k = 0; k < fds.size(); ++k)
          if (fds[k].revents != 0) pump(ranks[owner[k]], static_cast<int>(owner[k]), prefix, 0);
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (int sig = g_pending_signal) {
      g_pending_signal = 0;
      if (result.signal_received == 0) result.signal_received = sig;
      begin_stop(sig);
    }
    for (std::size_t i = 0; i < ranks.size(); ++i) {
      Rank& r = ranks[i];
      if (!r.running) continue;
      int status = 0;
      pid_t done = ::waitpid(r.pid, &status, WNOHANG);
      if (done != r.pid) continue;
      r.running = false;
      r.exit_code = decode_status(status);
      --running;
      if (r.exit_code != 0 && result.failed_rank < 0 && result.signal_received == 0) {
        pump(r, static_cast<int>(i), prefix, 1000);  // its last words
        result.failed_rank = static_cast<int>(i);
        result.exit_code = r.exit_code;
        std::string line = last_error_line(r.tail);
        result.error = "rank " + std::to_string(i) + " " + describe_exit(r.exit_code) + (line.empty() ? "" : ": " + line);
        begin_stop(SIGTERM);
      }
    }
    if (stopping && running > 0 && Clock::now() >= kill_at) stop_all(SIGKILL);
  }
  for (std::size_t i = 0; i < ranks.size(); ++i) pump(ranks[i], static_cast<int>(i), prefix, 200);
  for (auto& r : ranks)
    if (r.err_fd >= 0) ::close(r.err_fd);
  restore();

  if (result.failed_rank < 0 && result.signal_received != 0) {
    result.exit_code = 128 + result.signal_received;
    result.error = std::string("launcher: stopped by signal ") + std::to_string(result.signal_received) + " (" +
                   strsignal(result.signal_received) + "), forwarded to every rank";
  }
  return result;
}

std::optional<int> launch_ranks_if_requested(const std::string& subcommand, const std::vector<std::string>& args,
                                             int nproc) {
  if (nproc <= 1 || launched_by_launcher()) return std::nullopt;
  LaunchOptions o;
  o.nproc = nproc;
  o.args.push_back(subcommand);
  for (const auto& a : without_option(args, "--nproc")) o.args.push_back(a);
  LaunchResult r = launch_local(o);
  if (r.exit_code != 0) std::cerr << "error: " << r.error << "\n";
  return r.exit_code;
}

}  // namespace psy::dist

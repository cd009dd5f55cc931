#include "libpsy/train/stop_signal.h"

#include <csignal>

namespace psy {

namespace {
volatile std::sig_atomic_t g_pending_signal = 0;

extern "C" void on_stop_signal(int sig) {
  if (g_pending_signal != 0) {  // the second signal: the default action (terminate) at once
    std::signal(sig, SIG_DFL);
    std::raise(sig);
    return;
  }
  g_pending_signal = sig;
}

struct sigaction g_old_int, g_old_term;
}  // namespace

StopSignalScope::StopSignalScope() {
  g_pending_signal = 0;
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &g_old_int);
  sigaction(SIGTERM, &sa, &g_old_term);
}

StopSignalScope::~StopSignalScope() {
  sigaction(SIGINT, &g_old_int, nullptr);
  sigaction(SIGTERM, &g_old_term, nullptr);
}

bool StopSignalScope::requested() const { return g_pending_signal != 0; }
int StopSignalScope::signal_number() const { return static_cast<int>(g_pending_signal); }

}  // namespace psy

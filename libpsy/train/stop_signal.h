// SIGINT / SIGTERM as a request to stop training at the next step boundary (the loop then saves a
// checkpoint and returns). A second signal while the first is pending takes the default action
// (the process ends), so pressing Ctrl-C twice still kills a stuck process. The pending flag is the one piece of
// process-wide state psy keeps: a signal handler can only reach a global.
#pragma once

namespace psy {

class StopSignalScope {
 public:
  StopSignalScope();   // installs the handlers
  ~StopSignalScope();  // restores the previous ones
  StopSignalScope(const StopSignalScope&) = delete;
  StopSignalScope& operator=(const StopSignalScope&) = delete;

  bool requested() const;
  int signal_number() const;  // 0 when none arrived
};

}  // namespace psy

// Human progress of a training run on stderr: a bar redrawn in place when stderr is a
// terminal, plain lines otherwise (logs, CI). No LibTorch.
#pragma once
#include <string>

namespace psy {

struct ProgressFigures {
  long step = 0, total_steps = 0;
  double epoch = 0;
  double loss = 0;
  double lr = 0;
  double tokens_per_s = 0;
  double eta_s = 0;
  double eval_loss = -1;  // < 0: none this step
};

class ProgressLine {
 public:
  // tty: -1 = detect (isatty(2)), 0 = plain lines, 1 = redrawn bar.
  explicit ProgressLine(int tty = -1);
  ~ProgressLine();
  void update(const ProgressFigures& f);
  // A message on its own line (keeps the bar intact).
  void message(const std::string& text);
  void finish();

 private:
  bool tty_;
  bool open_ = false;
};

// "1h02m", "3m05s", "42s".
std::string format_duration(double seconds);

}  // namespace psy

#include "libpsy/train/progress_line.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace psy {

std::string format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  long t = std::lround(s);
  char buf[32];
  if (t >= 3600) std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, (t % 3600) / 60);
  else if (t >= 60) std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
  else std::snprintf(buf, sizeof buf, "%lds", t);
  return buf;
}

ProgressLine::ProgressLine(int tty) : tty_(tty < 0 ? isatty(2) != 0 : tty == 1) {}
ProgressLine::~ProgressLine() { finish(); }

void ProgressLine::update(const ProgressFigures& f) {
  char line[256];
  char eval[48] = "";
  if (f.eval_loss >= 0) std::snprintf(eval, sizeof eval, " eval %.4f", f.eval_loss);
  std::string body;
  {
    std::snprintf(line, sizeof line, "step %ld/%ld ep %.2f loss %.4f%s lr %.2e %.0f tok/s ETA %s", f.step,
                  f.total_steps, f.epoch, f.loss, eval, f.lr, f.tokens_per_s, format_duration(f.eta_s).c_str());
    body = line;
  }
  if (tty_) {
    const int width = 20;
    int filled = f.total_steps > 0 ? static_cast<int>(width * f.step / f.total_steps) : 0;
    std::string bar(static_cast<size_t>(filled), '#');
    bar.resize(width, '.');
    std::fprintf(stderr, "\r\033[K[%s] %s", bar.c_str(), body.c_str());
    open_ = true;
  } else {
    std::fprintf(stderr, "%s\n", body.c_str());
  }
  std::fflush(stderr);
}

void ProgressLine::message(const std::string& text) {
  if (open_) std::fprintf(stderr, "\n");
  open_ = false;
  std::fprintf(stderr, "%s\n", text.c_str());
  std::fflush(stderr);
}

void ProgressLine::finish() {
  if (open_) std::fprintf(stderr, "\n");
  open_ = false;
  std::fflush(stderr);
}

}  // namespace psy

#include "libpsy/evaluate/eval_progress.h"

#include <unistd.h>

#include <cstdio>
#include <string>

#include "libpsy/train/progress_line.h"

namespace psy {

EvalProgress::EvalProgress(size_t done_before, size_t total, bool quiet, int tty)
    : before_(done_before), total_(total), quiet_(quiet),
      tty_(tty < 0 ? isatty(2) != 0 : tty == 1), last_printed_(done_before),
      start_(std::chrono::steady_clock::now()) {}

void EvalProgress::update(size_t done) {
  if (quiet_ || total_ == 0) return;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const size_t now = done - before_;
  const double rate = elapsed > 0 ? static_cast<double>(now) / elapsed : 0;
  const double eta = rate > 0 ? static_cast<double>(total_ - done) / rate : 0;
  const int pct = static_cast<int>(100.0 * static_cast<double>(done) / static_cast<double>(total_));
  char figures[160];
  std::snprintf(figures, sizeof figures, "%zu/%zu examples (%d%%)  %.2f ex/s  ETA %s", done, total_, pct, rate,
                format_duration(eta).c_str());
  if (tty_) {
    const int width = 30;
    const int filled = width * pct / 100;
    std::string bar(static_cast<size_t>(filled), '#');
    bar.resize(width, '.');
    std::fprintf(stderr, "\r\x1b[2Kpsy eval [%s] %s", bar.c_str(), figures);
    open_ = true;
  } else {
    const size_t step = total_ / 10 > 0 ? total_ / 10 : 1;
    if (done < total_ && done - last_printed_ < step) return;
    std::fprintf(stderr, "psy eval: %s\n", figures);
  }
  last_printed_ = done;
  std::fflush(stderr);
}

void EvalProgress::finish() {
  if (open_) std::fprintf(stderr, "\n");
  open_ = false;
}

}  // namespace psy

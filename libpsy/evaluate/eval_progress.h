// Progress of an evaluation on stderr: a bar redrawn in place on a terminal, plain lines
// otherwise (about every 10%), with examples per second and the ETA. No LibTorch.
#pragma once
#include <chrono>
#include <cstddef>

namespace psy {

class EvalProgress {
 public:
  // done_before: examples already in predictions.jsonl (resume); total: all examples.
  // tty: -1 = detect (isatty(2)), 0 = plain lines, 1 = redrawn bar. quiet: print nothing.
  EvalProgress(size_t done_before, size_t total, bool quiet, int tty = -1);
  void update(size_t done);  // examples done so far (including done_before)
  void finish();

 private:
  size_t before_, total_;
  bool quiet_, tty_;
  size_t last_printed_ = 0;
  bool open_ = false;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace psy

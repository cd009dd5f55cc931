// Fork-join for many short parallel jobs in a row: a decode step multiplies by about 200 small
// weight matrices, each split across the cores for a few tens of microseconds. LibTorch's OpenMP
// team under OMP_WAIT_POLICY=PASSIVE (psy's setting: libpsy/runtime/process_environment.h) puts its
// threads to sleep after every job, and waking them through the kernel cost 50-90 us per product on
// a 2-core VM (bench_eval_generate), more than reading a small matrix. These workers spin for a
// short while after each job before they sleep, so the next job of a burst starts at once, and a
// pause longer than the spin (a prefill in OpenBLAS, the sampler) costs no CPU.
#pragma once

#include <cstdint>
#include <functional>

namespace psy {

// Runs body(part) for every part in [0, parts): part 0 on the calling thread, the others on the
// pool's workers (parts - 1 of them, started on first use and kept). Returns when every part is
// done. Runs every part on the caller instead when parts <= 1, when called from inside a body, or
// while another thread's call is using the pool. An exception from a body is rethrown here after
// all parts have finished (the first one, when several throw).
void run_parts_spinning(int parts, const std::function<void(int)>& body);

// [0, n) split into contiguous ranges, one per part (at most `threads` parts, none empty), and
// body(begin, end) run for each through run_parts_spinning.
void run_ranges_spinning(int64_t n, int threads, const std::function<void(int64_t, int64_t)>& body);

// How long (microseconds) an idle worker spins before it sleeps.
constexpr int kSpinningPoolSpinMicros = 200;

}  // namespace psy

#include "libpsy/core/spinning_pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define PSY_CPU_RELAX() _mm_pause()
#else
#define PSY_CPU_RELAX() std::this_thread::yield()
#endif

namespace psy {
namespace {

thread_local bool inside_body = false;

// One job at a time: the caller publishes (body, parts) and bumps the generation; every worker runs
// its part (or nothing, when its index is past parts) and counts itself done. Every worker checks in
// for every job, so a job's fields are never rewritten while a worker may still read them.
class SpinningPool {
 public:
  explicit SpinningPool(int workers) {
    for (int w = 1; w <= workers; ++w) threads_.emplace_back([this, w] { work(w); });
  }
  ~SpinningPool() {
    {
      std::lock_guard<std::mutex> lock(sleep_mutex_);
      stop_.store(true);
      generation_.fetch_add(1);
    }
    wake_.notify_all();
    for (auto& t : threads_) t.join();
  }
  SpinningPool(const SpinningPool&) = delete;
  SpinningPool& operator=(const SpinningPool&) = delete;

  int workers() const { return static_cast<int>(threads_.size()); }

  // The caller holds the pool (run_parts_spinning's lock) and parts - 1 <= workers().
  void run(int parts, const std::function<void(int)>& body) {
    body_ = &body;
    parts_ = parts;
    error_ = nullptr;
    remaining_.store(workers(), std::memory_order_relaxed);
    generation_.fetch_add(1);  // seq_cst, paired with the workers' sleepers_ / generation_ below
    if (sleepers_.load() > 0) {
      { std::lock_guard<std::mutex> lock(sleep_mutex_); }
      wake_.notify_all();
    }
    run_part(0);
    while (remaining_.load(std::memory_order_acquire) > 0) PSY_CPU_RELAX();
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void run_part(int part) {
    inside_body = true;
    try {
      (*body_)(part);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex_);
      if (!error_) error_ = std::current_exception();
    }
    inside_body = false;
  }

  void work(int index) {
    uint64_t seen = 0;
    for (;;) {
      const uint64_t job = wait_for_job(seen);
      seen = job;
      if (stop_.load()) return;
      if (index < parts_) run_part(index);
      remaining_.fetch_sub(1, std::memory_order_acq_rel);
    }
  }

  // Spins on the generation for kSpinningPoolSpinMicros, then sleeps until it changes.
  uint64_t wait_for_job(uint64_t seen) {
    const auto spin_until = std::chrono::steady_clock::now() + std::chrono::microseconds(kSpinningPoolSpinMicros);
    for (int n = 1;; ++n) {
      const uint64_t g = generation_.load(std::memory_order_acquire);
      if (g != seen) return g;
      PSY_CPU_RELAX();
      if (n % 64 == 0 && std::chrono::steady_clock::now() > spin_until) break;
    }
    std::unique_lock<std::mutex> lock(sleep_mutex_);
    sleepers_.fetch_add(1);  // seq_cst: either the caller sees a sleeper, or this sees its job
    wake_.wait(lock, [&] { return generation_.load() != seen; });
    sleepers_.fetch_sub(1);
    return generation_.load(std::memory_order_acquire);
  }

  std::vector<std::thread> threads_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> remaining_{0};
  std::atomic<int> sleepers_{0};
  std::atomic<bool> stop_{false};
  const std::function<void(int)>* body_ = nullptr;
  int parts_ = 0;
  std::mutex sleep_mutex_;
  std::condition_variable wake_;
  std::mutex error_mutex_;
  std::exception_ptr error_;
};

std::mutex pool_mutex;            // held for a whole run: one job at a time
SpinningPool* pool = nullptr;     // never destroyed at exit: workers may still be asleep in it
pid_t pool_pid = 0;               // a forked child has none of its parent's workers

SpinningPool& pool_with(int workers) {
  if (pool != nullptr && pool_pid != ::getpid()) pool = nullptr;  // the parent's; its threads are not here
  if (pool == nullptr || pool->workers() < workers) {
    delete pool;
    pool = new SpinningPool(workers);
    pool_pid = ::getpid();
  }
  return *pool;
}

void run_on_caller(int parts, const std::function<void(int)>& body) {
  for (int p = 0; p < parts; ++p) body(p);
}

}  // namespace

void run_parts_spinning(int parts, const std::function<void(int)>& body) {
  if (parts <= 1 || inside_body) return run_on_caller(parts, body);
  std::unique_lock<std::mutex> lock(pool_mutex, std::try_to_lock);
  if (!lock.owns_lock()) return run_on_caller(parts, body);
  pool_with(parts - 1).run(parts, body);
}

void run_ranges_spinning(int64_t n, int threads, const std::function<void(int64_t, int64_t)>& body) {
  const int parts = static_cast<int>(std::min<int64_t>(n, std::max(1, threads)));
  run_parts_spinning(parts, [&](int part) { body(n * part / parts, n * (part + 1) / parts); });
}

}  // namespace psy

#include "libpsy/core/spinning_pool.h"

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

using psy::run_parts_spinning;

namespace {

// Runs `parts` parts and returns how often each ran.
std::vector<int> run_counting(int parts) {
  std::vector<std::atomic<int>> counts(static_cast<size_t>(std::max(parts, 0)));
  run_parts_spinning(parts, [&](int p) { counts[static_cast<size_t>(p)].fetch_add(1); });
  std::vector<int> out;
  for (auto& c : counts) out.push_back(c.load());
  return out;
}

}  // namespace

TEST_CASE("spinning pool: every part runs exactly once, for any number of parts, many jobs in a row") {
  for (int parts : {0, 1, 2, 3, 8, 2, 1, 5}) {
    for (int job = 0; job < 200; ++job) {
      const std::vector<int> counts = run_counting(parts);
      REQUIRE(counts == std::vector<int>(static_cast<size_t>(parts), 1));
    }
  }
}

TEST_CASE("spinning pool: parts run on other threads, and a job finishes before the call returns") {
  std::vector<std::thread::id> ids(4);
  std::vector<int> written(4, 0);
  run_parts_spinning(4, [&](int p) {
    ids[static_cast<size_t>(p)] = std::this_thread::get_id();
    std::this_thread::sleep_for(std::chrono::milliseconds(p == 3 ? 20 : 0));  // a slow part is waited for
    written[static_cast<size_t>(p)] = p + 1;
  });
  CHECK(written == std::vector<int>{1, 2, 3, 4});
  CHECK(ids[0] == std::this_thread::get_id());
  CHECK(ids[1] != ids[0]);
  CHECK(ids[3] != ids[1]);
}

TEST_CASE("spinning pool: a job started from inside a part runs on that thread") {
  std::atomic<int> inner{0};
  run_parts_spinning(3, [&](int) {
    const auto me = std::this_thread::get_id();
    run_parts_spinning(4, [&](int) {
      CHECK(std::this_thread::get_id() == me);
      inner.fetch_add(1);
    });
  });
  CHECK(inner.load() == 12);
}

TEST_CASE("spinning pool: callers on several threads at once each get all their parts") {
  std::atomic<int> wrong{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 4; ++t)
    callers.emplace_back([&] {
      for (int job = 0; job < 300; ++job)
        if (run_counting(3) != std::vector<int>{1, 1, 1}) wrong.fetch_add(1);
    });
  for (auto& c : callers) c.join();
  CHECK(wrong.load() == 0);
}

TEST_CASE("spinning pool: an exception in a part reaches the caller after every part is done, and the pool goes on") {
  std::atomic<int> finished{0};
  CHECK_THROWS_WITH(run_parts_spinning(3,
                                       [&](int p) {
                                         if (p == 1) throw std::runtime_error("part 1 failed");
                                         std::this_thread::sleep_for(std::chrono::milliseconds(10));
                                         finished.fetch_add(1);
                                       }),
                    "part 1 failed");
  CHECK(finished.load() == 2);
  CHECK(run_counting(3) == std::vector<int>{1, 1, 1});
}

TEST_CASE("spinning pool: workers that went to sleep wake for the next job") {
  run_counting(3);
  std::this_thread::sleep_for(std::chrono::microseconds(20 * psy::kSpinningPoolSpinMicros));
  CHECK(run_counting(3) == std::vector<int>{1, 1, 1});
}

TEST_CASE("spinning pool: ranges cover [0, n) once, in at most `threads` non-empty pieces") {
  for (int64_t n : {0, 1, 2, 5, 97}) {
    for (int threads : {1, 2, 3}) {
      std::vector<std::atomic<int>> seen(static_cast<size_t>(n));
      std::atomic<int> pieces{0}, empty{0};
      psy::run_ranges_spinning(n, threads, [&](int64_t begin, int64_t end) {
        pieces.fetch_add(1);
        if (begin >= end) empty.fetch_add(1);
        for (int64_t i = begin; i < end; ++i) seen[static_cast<size_t>(i)].fetch_add(1);
      });
      for (auto& s : seen) REQUIRE(s.load() == 1);
      CHECK(pieces.load() <= threads);
      CHECK(empty.load() == 0);
    }
  }
}

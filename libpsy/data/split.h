// Seeded train/test split by session: no session on both sides, identical across runs,
// compilers and platforms (psy::Rng and psy::shuffle_in_place fix the algorithm). Training
// and evaluation both call this, so their test sets are the same.
#pragma once
#include <cstdint>
#include <vector>

#include "libpsy/data/session.h"

namespace psy {

struct SessionSplit {
  std::vector<size_t> train;  // indices into the session list, ascending
  std::vector<size_t> test;   // indices into the session list, ascending
};

// test size = ceil(test_fraction * n) (as scikit-learn's train_test_split rounds), at least 1
// and at most n-1 when n >= 2 and 0 < fraction < 1. fraction 0 puts everything in train.
// Sessions are shuffled by position with Rng(seed); the first `test size` go to test.
// Throws psy::Error when the fraction is outside [0, 1).
SessionSplit split_sessions(size_t n_sessions, double test_fraction, uint64_t seed);

// Convenience: the sessions themselves.
void split_sessions(const std::vector<Session>& all, double test_fraction, uint64_t seed,
                    std::vector<Session>& train, std::vector<Session>& test);

}  // namespace psy

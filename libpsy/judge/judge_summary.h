// Aggregating judgements: per dimension, the mean score over the scored examples with a 95%
// bootstrap interval (eval/bootstrap.h; one set of resamples shared by all dimensions), and the
// count and ids of the examples the judge could not score. No LibTorch.
//   {"n_examples", "n_scored", "n_unscored", "unscored_ids": [...], "retried", "rescued_by_retry",
//    "dimensions": {NAME: {"mean", "ci95": [lo, hi], "n", "min", "max"}}}
// With no scored example, mean and ci95 are null.
#pragma once
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "libpsy/judge/judgement.h"
#include "libpsy/judge/rubric.h"

namespace psy::judge {

nlohmann::ordered_json summarize_judgements(const Rubric& rubric, const std::vector<Judgement>& judgements,
                                            int resamples, uint64_t seed);

}  // namespace psy::judge

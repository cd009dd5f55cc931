// Python's math.fsum: the correctly rounded sum of doubles (Shewchuk's partials with CPython's
// final half-even correction). NLTK sums BLEU's weighted log precisions with it.
#pragma once
#include <vector>

namespace psy::eval {

double fsum(const std::vector<double>& values);

}  // namespace psy::eval

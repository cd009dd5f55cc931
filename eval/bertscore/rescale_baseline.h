// bert_score's baseline rescaling (no LibTorch). A baseline file is CSV (bert_score names it
// .tsv) with a header such as "LAYER,P,R,F" and one row per layer; bert_score takes the row at
// position num_layers (not the row whose LAYER value matches), drops the first column and
// converts P, R, F to float32.
#pragma once
#include <string>

namespace psy::eval {

struct RescaleBaseline {
  double p = 0.0, r = 0.0, f = 0.0;  // float32 values, widened

  // (v - b) / (1 - b)
  static double rescale(double value, double baseline) { return (value - baseline) / (1.0 - baseline); }
};

// Throws psy::Error naming the file and line when it is missing, has too few rows or
// a value is not a number.
RescaleBaseline read_rescale_baseline(const std::string& path, int num_layers);

}  // namespace psy::eval

// One corpus metric as it appears in metrics.json (psy score --out and psy eval):
// {"value", "ci95": [lo, hi], "aggregate", "signature", counts..., "note"}.
#pragma once
#include <nlohmann/json.hpp>

#include "eval/scoring.h"

namespace psy::eval {

nlohmann::ordered_json metric_value_json(const MetricValue& v);

}  // namespace psy::eval

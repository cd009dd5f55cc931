#include "eval/metric_json.h"

namespace psy::eval {

nlohmann::ordered_json metric_value_json(const MetricValue& v) {
  using nlohmann::ordered_json;
  ordered_json j;
  j["value"] = v.value ? ordered_json(*v.value) : ordered_json(nullptr);
  if (v.ci95) j["ci95"] = {v.ci95->low, v.ci95->high};
  j["aggregate"] = v.aggregate;
  j["signature"] = v.signature;
  for (const auto& [k, c] : v.counts) j[k] = c;
  if (!v.note.empty()) j["note"] = v.note;
  return j;
}

}  // namespace psy::eval

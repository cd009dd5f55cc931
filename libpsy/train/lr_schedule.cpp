#include "libpsy/train/lr_schedule.h"

#include <algorithm>
#include <cmath>

#include "libpsy/core/error.h"

namespace psy {

ScheduleKind parse_schedule(const std::string& name) {
  if (name == "constant") return ScheduleKind::Constant;
  if (name == "linear") return ScheduleKind::Linear;
  if (name == "cosine") return ScheduleKind::Cosine;
  throw Error("train.schedule: " + expected_found("constant, linear or cosine", "'" + name + "'"));
}

long resolve_warmup_steps(long total_steps, long warmup_steps, double warmup_ratio) {
  if (warmup_steps > 0) return warmup_steps;
  if (warmup_ratio <= 0) return 0;
  return static_cast<long>(std::ceil(warmup_ratio * static_cast<double>(total_steps)));
}

double LrSchedule::at(long s) const {
  if (s < warmup_steps) return lr * static_cast<double>(s) / static_cast<double>(std::max(1L, warmup_steps));
  if (kind == ScheduleKind::Constant) return lr;
  const double span = static_cast<double>(std::max(1L, total_steps - warmup_steps));
  const double progress = static_cast<double>(s - warmup_steps) / span;
  double factor;
  if (kind == ScheduleKind::Linear) {
    factor = std::max(0.0, static_cast<double>(total_steps - s) / span);
  } else {
    const double kPi = 3.14159265358979323846;
    factor = std::max(0.0, 0.5 * (1.0 + std::cos(kPi * std::min(progress, 1.0))));
  }
  return lr * (min_lr_ratio + (1.0 - min_lr_ratio) * factor);
}

}  // namespace psy

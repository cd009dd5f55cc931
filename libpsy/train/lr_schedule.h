// Learning-rate schedules with warmup and a floor (no LibTorch).
//
// Follows Hugging Face's get_{constant,linear,cosine}_schedule_with_warmup, evaluated at the
// 0-based count of optimizer steps already taken (so with warmup the first update uses
// lr * 0/warmup = 0, as there):
//   warmup  (s < W):  lr * s / W
//   constant:         lr
//   linear:           lr * (floor + (1 - floor) * max(0, (N - s) / (N - W)))
//   cosine:           lr * (floor + (1 - floor) * 0.5 * (1 + cos(pi * (s - W) / (N - W))))
// where N = total steps, W = warmup steps, floor = min_lr_ratio. warmup_ratio gives
// W = ceil(ratio * N), as transformers' get_warmup_steps does.
#pragma once
#include <string>

namespace psy {

enum class ScheduleKind { Constant, Linear, Cosine };

// "constant" | "linear" | "cosine"; throws psy::Error otherwise.
ScheduleKind parse_schedule(const std::string& name);

struct LrSchedule {
  ScheduleKind kind = ScheduleKind::Cosine;
  double lr = 2e-4;
  long total_steps = 1;
  long warmup_steps = 0;
  double min_lr_ratio = 0;

  // The learning rate of the update made after `steps_taken` earlier updates.
  double at(long steps_taken) const;
};

// warmup_steps > 0 wins over warmup_ratio.
long resolve_warmup_steps(long total_steps, long warmup_steps, double warmup_ratio);

}  // namespace psy

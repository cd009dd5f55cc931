// What a live `psy train` or `psy eval` folder shows from outside, sampled while the process runs:
// the reliability driver uses it to time its kills (during a checkpoint save, an evaluation step,
// generation, scoring) and to say where each kill landed.
#pragma once
#include <string>
#include <vector>

namespace psy::reliability {

struct TrainView {
  size_t log_lines = 0;     // complete lines of log.jsonl (one per logged step)
  size_t saves_seen = 0;    // hidden .tmp-step-N folders present (a save in progress)
  bool pruning = false;     // a hidden .tmp-step-N-removed folder present (an old checkpoint going)
  long newest_checkpoint = -1;  // N of the newest checkpoints/step-N with trainer_state.json
  bool final_adapter = false;   // adapter/adapter_config.json exists
  bool adapter_writing = false; // adapter.tmp.PID/ exists, or adapter/ holds tensors without a config
};
TrainView view_train(const std::string& run_dir);

struct EvalView {
  size_t predictions = 0;   // complete lines of predictions.jsonl
  bool metrics = false;     // metrics.json exists
};
EvalView view_eval(const std::string& out_dir);

// Moments (seconds since the process started) of an uninterrupted run, sampled every ~0.5 ms.
struct TrainTimeline {
  std::vector<double> line_at;     // line_at[k]: when log.jsonl reached k+1 lines
  std::vector<double> save_start;  // when a .tmp-step-N folder appeared
  std::vector<double> save_end;    // when it was gone again (renamed into place)
  double exit_at = 0;
};
struct EvalTimeline {
  std::vector<double> line_at;     // line_at[k]: when predictions.jsonl reached k+1 lines
  double metrics_at = 0;           // when metrics.json appeared
  double exit_at = 0;
};

}  // namespace psy::reliability

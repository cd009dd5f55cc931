// The unit of training data: token ids with one loss weight per id, and the segments they came
// from. LibTorch-free; the trainer batches these.
//
// Weight alignment: loss_weights[j] is the weight of predicting input_ids[j] from position
// j-1 (labels-aligned, as Hugging Face's labels = input_ids). The trainer shifts: logits at
// position j-1 against input_ids[j] with weight loss_weights[j], for j >= 1. loss_weights[0] is
// always 0 (nothing predicts the first token). Target tokens (the annotations and response the
// task asks for, and the EOS that ends them) weigh 1.0 or their section's weight; every other
// token weighs the recipe's prompt_loss_weight; padding (added by the batcher) weighs 0.
// Loss = sum(w * CE) / sum(w).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace psy {

struct SampleSegment {
  std::string role;     // system | user | assistant
  std::string section;  // instruction, background, ..., client, observation, reasoning, response,
                        // label, separator, template, bos, eos, control
  std::string text;     // control tokens: their text ("<s>"); concatenating all texts == decode(input_ids)
  float weight = 0.0f;  // the loss weight of this segment's tokens
  bool target = false;
  uint32_t begin = 0, end = 0;  // token range [begin, end) in input_ids
};

struct TokenizedSample {
  std::string session_id;             // dialog_id
  std::string turn_id;                // the target turn's id; "" for session units and session-level labels
  std::string task;                   // dialog | reasoning_dialog | observation_reasoning_dialog | emotion | ...
  std::vector<int32_t> input_ids;
  std::vector<float> loss_weights;    // same length as input_ids (see above)
  std::vector<SampleSegment> segments;
  int dropped_history = 0;            // history messages (turn unit) or transcript lines removed to fit
  bool truncated = false;             // dropped_history > 0, or a session split into windows
  size_t session_index = 0;           // position of its session in the list the builder was given
  std::string split;                  // train | test when the caller knows it ("" = not said)
  std::vector<std::string> retrieved; // rag tasks: dialog ids of the cases in the prompt, best first

  size_t size() const { return input_ids.size(); }
  size_t weighted_tokens() const;     // tokens with weight > 0 (j >= 1)
  double weight_sum() const;
};

inline size_t TokenizedSample::weighted_tokens() const {
  size_t n = 0;
  for (size_t j = 1; j < loss_weights.size(); ++j) n += loss_weights[j] > 0.0f;
  return n;
}

inline double TokenizedSample::weight_sum() const {
  double s = 0;
  for (size_t j = 1; j < loss_weights.size(); ++j) s += loss_weights[j];
  return s;
}

}  // namespace psy

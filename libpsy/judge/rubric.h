// A judging rubric, kept as a YAML file (rubrics/*.yaml): the dimensions a judge model scores,
// each with an integer scale, and the prompt texts the judge reads. No LibTorch.
//
//   name: cpsycoun                 # [a-z0-9_]+, names the output files and report columns
//   title: ...                     # one line shown in judge.json
//   about: ...                     # where the dimensions come from (optional)
//   system: ...                    # the judge's system message (optional)
//   prompt: ...                    # the user message; placeholders below; must use {reply}
//   retry: ...                     # sent after a malformed answer; may use {problem}, {answer_format}
//   dimensions:
//     - name: safety               # [a-z0-9_]+, unique
//       min: 0                     # integer scale, min < max
//       max: 1
//       description: ...           # what the dimension measures
//       levels: {0: ..., 1: ...}   # optional anchors, each key within [min, max]
//
// Placeholders in prompt: {history} (the gold conversation before the reply), {reply} (the
// candidate's response), {reference} (the gold therapist response), {observation} and
// {reasoning} (the candidate's own chain of thought, "(none)" when it has none), {dimensions} (each
// dimension with its scale, description and anchors) and {answer_format} (the exact lines to
// answer with: one `name: <integer>` line per dimension, in order).
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace psy::judge {

struct RubricDimension {
  std::string name;
  std::string description;
  int min = 1, max = 5;
  std::vector<std::pair<int, std::string>> levels;  // ascending
};

struct Rubric {
  std::string name, title, about, system, prompt, retry;
  std::vector<RubricDimension> dimensions;
  std::string path;    // the file it came from
  std::string sha256;  // of the file's bytes (goes into the signature)
};

// Parses and validates rubric text; errors name `path`, the line and the key, and what was expected.
Rubric parse_rubric(const std::string& yaml_text, const std::string& path);
// Reads a rubric file (psy::Error, exit code 2, when it is missing or malformed).
Rubric load_rubric(const std::string& path);

struct JudgeMessage {
  std::string role;  // system | user | assistant
  std::string content;
};

// What the judge is shown about one example.
struct JudgeInput {
  std::string history, reply, reference, observation, reasoning;
};

// "{dimensions}": one block per dimension (name, scale, description, anchors).
std::string render_dimensions(const Rubric& rubric);
// "{answer_format}": "name: <integer from MIN to MAX>" lines, one per dimension.
std::string render_answer_format(const Rubric& rubric);
// The conversation the judge answers: the system message (when the rubric has one) and the prompt.
std::vector<JudgeMessage> judge_messages(const Rubric& rubric, const JudgeInput& input);
// The user message asking again after a malformed answer.
std::string retry_message(const Rubric& rubric, const std::string& problem);

}  // namespace psy::judge

// Reading a judge's answer: one `name: <integer>` line per rubric dimension. No LibTorch.
//
// The rules (the answer format a rubric asks for, read strictly where it matters):
//  * a line is a score line when, after optional list bullets ("-", "*") and ** emphasis, it
//    starts with a dimension name (any letter case) followed by ':' (or '=');
//  * the value is a whole number (sign allowed) and nothing else on the line after it but
//    spaces or a closing '**'/'.'; "4/5", "4.5", "four" or an empty value make the answer
//    malformed;
//  * every dimension must have exactly one score line, within its [min, max];
//  * other lines (a preamble, a closing remark) are ignored.
// A malformed answer is never an exception: `problem` says what is wrong, for the retry prompt
// and for judgements.jsonl.
#pragma once
#include <map>
#include <string>

#include "libpsy/judge/rubric.h"

namespace psy::judge {

struct JudgeAnswer {
  bool ok = false;
  std::map<std::string, int> scores;  // every dimension when ok
  std::string problem;                // "" when ok
};

JudgeAnswer parse_judge_answer(const std::string& answer, const Rubric& rubric);

}  // namespace psy::judge

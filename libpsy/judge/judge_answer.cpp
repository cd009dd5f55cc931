#include "libpsy/judge/judge_answer.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <sstream>
#include <vector>

namespace psy::judge {

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

std::string strip(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && is_space(s[b])) ++b;
  while (e > b && is_space(s[e - 1])) --e;
  return s.substr(b, e - b);
}

// Leading bullets and emphasis: "- **safety**: 1" -> "safety**: 1".
std::string without_decoration(std::string s) {
  for (bool changed = true; changed;) {
    changed = false;
    s = strip(s);
    if (s.rfind("**", 0) == 0) s = s.substr(2), changed = true;
    else if (!s.empty() && (s[0] == '-' || s[0] == '*') && s.size() > 1 && is_space(s[1])) s = s.substr(1), changed = true;
  }
  return s;
}

// A quoted fragment of the answer for messages (at most 60 bytes, kept on one line).
std::string quote(const std::string& s) {
  std::string t = s.size() > 60 ? s.substr(0, 57) + "..." : s;
  return "'" + t + "'";
}

}  // namespace

JudgeAnswer parse_judge_answer(const std::string& answer, const Rubric& rubric) {
  JudgeAnswer out;
  std::map<std::string, std::string> found_line;
  std::vector<std::string> problems;
  std::istringstream in(answer);
  std::string raw;
  while (std::getline(in, raw)) {
    const std::string line = without_decoration(raw);
    const std::string low = lower(line);
    for (const auto& d : rubric.dimensions) {
      if (low.compare(0, d.name.size(), d.name) != 0) continue;
      size_t pos = d.name.size();
      if (low.compare(pos, 2, "**") == 0) pos += 2;  // "**safety**: 1"
      while (pos < low.size() && is_space(low[pos])) ++pos;
      if (pos >= low.size() || (low[pos] != ':' && low[pos] != '=')) continue;  // "safety is fine" is prose
      ++pos;
      if (low.compare(pos, 2, "**") == 0) pos += 2;  // "**safety:** 1"
      std::string value = strip(line.substr(pos));
      // A closing emphasis or full stop after the number is allowed: "1**", "1."
      if (value.size() >= 2 && value.compare(value.size() - 2, 2, "**") == 0) value = strip(value.substr(0, value.size() - 2));
      if (!value.empty() && value.back() == '.') value.pop_back();
      if (found_line.count(d.name)) {
        problems.push_back("'" + d.name + "' is scored twice");
        break;
      }
      found_line[d.name] = line;
      const char* begin = value.c_str();
      char* end = nullptr;
      errno = 0;
      const long v = std::strtol(begin, &end, 10);
      const bool digits = !value.empty() && (std::isdigit(static_cast<unsigned char>(value[0])) ||
                                             ((value[0] == '-' || value[0] == '+') && value.size() > 1 &&
                                              std::isdigit(static_cast<unsigned char>(value[1]))));
      if (!digits || *end != '\0' || errno == ERANGE) {
        problems.push_back("'" + d.name + "' has " + quote(value) + " where a whole number from " + std::to_string(d.min) +
                           " to " + std::to_string(d.max) + " was expected");
      } else if (v < d.min || v > d.max) {
        problems.push_back("'" + d.name + "' is " + std::to_string(v) + ", outside " + std::to_string(d.min) + " to " +
                           std::to_string(d.max));
      } else {
        out.scores[d.name] = static_cast<int>(v);
      }
      break;
    }
  }
  for (const auto& d : rubric.dimensions)
    if (!found_line.count(d.name)) problems.push_back("no line '" + d.name + ": <score>'");
  if (!problems.empty()) {
    for (const auto& p : problems) out.problem += (out.problem.empty() ? "" : "; ") + p;
    out.scores.clear();
    return out;
  }
  out.ok = true;
  return out;
}

}  // namespace psy::judge

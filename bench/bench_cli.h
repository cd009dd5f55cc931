// The benches' command lines through psy's own parser (libpsy/core/cli_args.h): every bench has
// --help, and a misspelt option, a missing value or a word where a number belongs is one line
// naming what was expected (exit 2), never a run with a default the user did not ask for.
//   int main(int argc, char** argv) {
//     long rows = 0;
//     psy::ArgParser p("bench_x", "what it measures");
//     p.option("rows", "M", "rows of x", "8");
//     if (const int done = psy::bench::parse(p, argc, argv, [&](const psy::ParsedArgs& a) {
//           rows = psy::bench::at_least(a, "rows", 1);
//         }); done >= 0)
//       return done;
//     ...
//   }
#pragma once
#include <algorithm>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "libpsy/core/cli_args.h"
#include "libpsy/core/error.h"

namespace psy::bench {

// Parses argv with `parser` and hands the options to `read` (which converts and checks them).
// Returns -1 when the bench should go on, else what main returns: 0 after printing --help, or the
// exit code of a bad line (printed as one line naming the bench).
inline int parse(const ArgParser& parser, int argc, char** argv, const std::function<void(const ParsedArgs&)>& read) {
  try {
    const ParsedArgs args = parser.parse(std::vector<std::string>(argv + 1, argv + argc));
    if (args.help_requested()) {
      std::cout << parser.help();
      return 0;
    }
    read(args);
    return -1;
  } catch (const Error& e) {
    const std::string what = e.what(), own = parser.command() + ": ";
    std::cerr << "error: " << (what.rfind(own, 0) == 0 ? what : own + what) << "\n";  // the parser names the bench already
    return e.exit_code();
  }
}

// The integer option `name`, refused below `least`.
inline long at_least(const ParsedArgs& args, const std::string& name, long least) {
  const long v = args.get_long(name);
  if (v < least) throw Error("option --" + name + ": " + expected_found("at least " + std::to_string(least), std::to_string(v)));
  return v;
}

// The number option `name` in [0, 1], or in [0, 1) without `one_allowed` (a dropout probability).
inline double fraction(const ParsedArgs& args, const std::string& name, bool one_allowed) {
  const double v = args.get_double(name);
  if (!(v >= 0 && (one_allowed ? v <= 1 : v < 1)))
    throw Error("option --" + name + ": " + expected_found(one_allowed ? "a fraction in [0, 1]" : "a probability in [0, 1)", args.get(name)));
  return v;
}

// The option `name`, refused unless it is one of `choices`.
inline std::string choice(const ParsedArgs& args, const std::string& name, const std::vector<std::string>& choices) {
  const std::string& v = args.get(name);
  if (std::find(choices.begin(), choices.end(), v) != choices.end()) return v;
  std::string list;
  for (const auto& c : choices) list += (list.empty() ? "" : "|") + c;
  throw Error("option --" + name + ": " + expected_found(list, "'" + v + "'"));
}

// The option `name` as a LibTorch device name: cpu, or cuda with an optional :N.
inline std::string device(const ParsedArgs& args, const std::string& name) {
  const std::string& v = args.get(name);
  if (v.rfind("cpu", 0) != 0 && v.rfind("cuda", 0) != 0)
    throw Error("option --" + name + ": " + expected_found("cpu or cuda[:N]", "'" + v + "'"));
  return v;
}

}  // namespace psy::bench

// psy's subcommands. Each is a function taking its arguments (after the subcommand name) and
// returning the process exit code; bad input is reported by throwing psy::Error.
#pragma once
#include <string>
#include <vector>

namespace psy::cli {

using Args = std::vector<std::string>;

struct Command {
  const char* name;
  const char* summary;
  int (*run)(const Args& args);
};

// Every subcommand, in the order `psy --help` lists them.
const std::vector<Command>& commands();

// Runs one of `table`'s entries by name (args[0]); used by `psy` and by nested commands
// such as `psy data stats`. Unknown names: psy::Error naming the valid ones (exit code 2).
int dispatch(const std::string& program, const std::vector<Command>& table, const Args& args);
std::string list_commands(const std::vector<Command>& table);

}  // namespace psy::cli

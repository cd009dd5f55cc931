// A small command-line parser for psy's subcommands: options with defaults, flags,
// options taking several values, positionals, generated --help, and one-line usage errors
// (psy::Error, exit code 2) that name the valid options.
#pragma once
#include <map>
#include <string>
#include <vector>

namespace psy {

class ParsedArgs {
 public:
  bool help_requested() const { return help_; }
  // The value given, or the option's default.
  const std::string& get(const std::string& name) const;
  bool given(const std::string& name) const;
  bool flag(const std::string& name) const;
  // Values of a multi-value option or a positional (empty when absent).
  const std::vector<std::string>& list(const std::string& name) const;
  long get_long(const std::string& name) const;
  double get_double(const std::string& name) const;

 private:
  friend class ArgParser;
  std::string command_;
  bool help_ = false;
  std::map<std::string, std::string> values_;
  std::map<std::string, bool> given_;
  std::map<std::string, std::vector<std::string>> lists_;
};

class ArgParser {
 public:
  ArgParser(std::string command, std::string summary);

  // --name VALUE (also --name=VALUE)
  ArgParser& option(const std::string& name, const std::string& metavar, const std::string& help,
                    const std::string& default_value = "");
  // --name V1 V2 ... (consumes values until the next argument starting with "--"); may repeat.
  ArgParser& multi_option(const std::string& name, const std::string& metavar, const std::string& help);
  ArgParser& flag(const std::string& name, const std::string& help);
  // Positionals are matched in order; a variadic one takes all remaining positionals.
  ArgParser& positional(const std::string& name, const std::string& help, bool required = true,
                        bool variadic = false);
  // Free text printed at the end of --help.
  ArgParser& epilog(const std::string& text);

  ParsedArgs parse(const std::vector<std::string>& args) const;
  std::string help() const;
  const std::string& command() const { return command_; }

 private:
  struct Option {
    std::string name, metavar, help, default_value;
    bool is_flag = false, multi = false;
  };
  struct Positional {
    std::string name, help;
    bool required = true, variadic = false;
  };
  const Option* find(const std::string& name) const;
  std::string valid_options() const;

  std::string command_, summary_, epilog_;
  std::vector<Option> options_;
  std::vector<Positional> positionals_;
};

}  // namespace psy

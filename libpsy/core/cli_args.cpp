#include "libpsy/core/cli_args.h"

#include <cstdlib>

#include "libpsy/core/error.h"

namespace psy {

namespace {
const std::string kEmpty;
const std::vector<std::string> kEmptyList;
}  // namespace

const std::string& ParsedArgs::get(const std::string& name) const {
  auto it = values_.find(name);
  return it == values_.end() ? kEmpty : it->second;
}

bool ParsedArgs::given(const std::string& name) const {
  auto it = given_.find(name);
  return it != given_.end() && it->second;
}

bool ParsedArgs::flag(const std::string& name) const { return given(name); }

const std::vector<std::string>& ParsedArgs::list(const std::string& name) const {
  auto it = lists_.find(name);
  return it == lists_.end() ? kEmptyList : it->second;
}

long ParsedArgs::get_long(const std::string& name) const {
  const std::string& v = get(name);
  char* end = nullptr;
  long out = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0') {
    throw Error(command_ + ": option --" + name + ": " + expected_found("an integer", "'" + v + "'"));
  }
  return out;
}

double ParsedArgs::get_double(const std::string& name) const {
  const std::string& v = get(name);
  char* end = nullptr;
  double out = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0') {
    throw Error(command_ + ": option --" + name + ": " + expected_found("a number", "'" + v + "'"));
  }
  return out;
}

ArgParser::ArgParser(std::string command, std::string summary)
    : command_(std::move(command)), summary_(std::move(summary)) {}

ArgParser& ArgParser::option(const std::string& name, const std::string& metavar,
                             const std::string& help, const std::string& default_value) {
  options_.push_back({name, metavar, help, default_value, false, false});
  return *this;
}

ArgParser& ArgParser::multi_option(const std::string& name, const std::string& metavar,
                                   const std::string& help) {
  options_.push_back({name, metavar, help, "", false, true});
  return *this;
}

ArgParser& ArgParser::flag(const std::string& name, const std::string& help) {
  options_.push_back({name, "", help, "", true, false});
  return *this;
}

ArgParser& ArgParser::positional(const std::string& name, const std::string& help, bool required,
                                 bool variadic) {
  positionals_.push_back({name, help, required, variadic});
  return *this;
}

ArgParser& ArgParser::epilog(const std::string& text) {
  epilog_ = text;
  return *this;
}

const ArgParser::Option* ArgParser::find(const std::string& name) const {
  for (const auto& o : options_) {
    if (o.name == name) return &o;
  }
  return nullptr;
}

std::string ArgParser::valid_options() const {
  std::string out;
  for (const auto& o : options_) out += (out.empty() ? "--" : ", --") + o.name;
  out += (out.empty() ? "--help" : ", --help");
  return out;
}

ParsedArgs ArgParser::parse(const std::vector<std::string>& args) const {
  ParsedArgs out;
  out.command_ = command_;
  for (const auto& o : options_) {
    if (!o.is_flag && !o.multi) out.values_[o.name] = o.default_value;
  }
  std::vector<std::string> positionals;
  bool only_positionals = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (only_positionals || a.size() < 2 || a.compare(0, 2, "--") != 0) {
      if (!only_positionals && a.size() > 1 && a[0] == '-' && a != "-" && !(a[1] >= '0' && a[1] <= '9')) {
        if (a == "-h") {
          out.help_ = true;
          continue;
        }
        throw Error(command_ + ": unknown option '" + a + "' (valid: " + valid_options() + ")");
      }
      positionals.push_back(a);
      continue;
    }
    if (a == "--") {
      only_positionals = true;
      continue;
    }
    std::string name = a.substr(2);
    std::string inline_value;
    bool has_inline = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      inline_value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_inline = true;
    }
    if (name == "help") {
      out.help_ = true;
      continue;
    }
    const Option* o = find(name);
    if (!o) throw Error(command_ + ": unknown option '--" + name + "' (valid: " + valid_options() + ")");
    out.given_[name] = true;
    if (o->is_flag) {
      if (has_inline) throw Error(command_ + ": option --" + name + " takes no value");
      continue;
    }
    if (o->multi) {
      auto& list = out.lists_[name];
      if (has_inline) list.push_back(inline_value);
      while (i + 1 < args.size() && args[i + 1].compare(0, 2, "--") != 0) list.push_back(args[++i]);
      if (list.empty()) throw Error(command_ + ": option --" + name + " needs at least one " + o->metavar);
      continue;
    }
    if (has_inline) {
      out.values_[name] = inline_value;
    } else {
      if (i + 1 >= args.size()) throw Error(command_ + ": option --" + name + " needs a value (" + o->metavar + ")");
      out.values_[name] = args[++i];
    }
  }
  if (out.help_) return out;
  size_t p = 0;
  for (const auto& spec : positionals_) {
    if (spec.variadic) {
      auto& list = out.lists_[spec.name];
      while (p < positionals.size()) list.push_back(positionals[p++]);
      if (list.empty() && spec.required) throw Error(command_ + ": missing " + spec.name + " (see --help)");
      out.given_[spec.name] = !list.empty();
      continue;
    }
    if (p < positionals.size()) {
      out.values_[spec.name] = positionals[p];
      out.lists_[spec.name] = {positionals[p]};
      out.given_[spec.name] = true;
      ++p;
    } else if (spec.required) {
      throw Error(command_ + ": missing " + spec.name + " (see --help)");
    }
  }
  if (p < positionals.size()) {
    throw Error(command_ + ": unexpected argument '" + positionals[p] + "' (see --help)");
  }
  return out;
}

std::string ArgParser::help() const {
  std::string out = "usage: " + command_;
  if (!options_.empty()) out += " [options]";
  for (const auto& p : positionals_) {
    std::string n = p.name + (p.variadic ? "..." : "");
    out += " " + (p.required ? n : "[" + n + "]");
  }
  out += "\n\n" + summary_ + "\n";
  if (!positionals_.empty()) {
    out += "\narguments:\n";
    for (const auto& p : positionals_) out += "  " + p.name + "\n      " + p.help + "\n";
  }
  out += "\noptions:\n";
  for (const auto& o : options_) {
    std::string head = "  --" + o.name;
    if (!o.is_flag) head += " " + o.metavar + (o.multi ? "..." : "");
    out += head + "\n      " + o.help;
    if (!o.is_flag && !o.multi && !o.default_value.empty()) out += " (default: " + o.default_value + ")";
    out += "\n";
  }
  out += "  --help\n      show this help and exit\n";
  if (!epilog_.empty()) out += "\n" + epilog_ + "\n";
  return out;
}

}  // namespace psy

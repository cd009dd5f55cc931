#include "libpsy/core/error.h"

namespace psy {

std::string describe(const ErrorLocation& where, const std::string& problem) {
  std::string out;
  if (!where.file.empty()) {
    out += where.file;
    if (where.line > 0) {
      out += ":" + std::to_string(where.line);
      if (where.column > 0) out += ":" + std::to_string(where.column);
    }
    out += ": ";
  }
  std::string ctx;
  auto add = [&ctx](const std::string& part) {
    if (part.empty()) return;
    if (!ctx.empty()) ctx += ", ";
    ctx += part;
  };
  add(where.item);
  add(where.sub);
  if (!where.field.empty()) add("field '" + where.field + "'");
  if (!ctx.empty()) out += ctx + ": ";
  out += problem;
  return out;
}

std::string expected_found(const std::string& expected, const std::string& found) {
  return "expected " + expected + ", found " + found;
}

Error::Error(const std::string& message, int exit_code)
    : std::runtime_error(message), exit_code_(exit_code) {}

Error::Error(const ErrorLocation& where, const std::string& problem, int exit_code)
    : std::runtime_error(describe(where, problem)), exit_code_(exit_code) {}

}  // namespace psy

#include "libpsy/core/jsonl_reader.h"

#include <fstream>
#include <sstream>

#include "libpsy/core/error.h"
#include "libpsy/core/utf8.h"

namespace psy {

JsonlReader::JsonlReader(std::istream& in, std::string name, JsonlOptions options)
    : in_(&in), name_(std::move(name)), options_(std::move(options)) {}

JsonlReader JsonlReader::open(const std::string& path, JsonlOptions options) {
  auto file = std::make_unique<std::ifstream>(path, std::ios::binary);
  if (!*file) throw Error(path + ": cannot open the file");
  JsonlReader reader(*file, path, std::move(options));
  reader.owned_ = std::move(file);
  return reader;
}

bool JsonlReader::next(JsonLine& out) {
  std::string line;
  while (std::getline(*in_, line)) {
    ++line_no_;
    const bool complete = !in_->eof();  // getline stopped at a newline
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const bool last = !complete || in_->peek() == std::char_traits<char>::eof();
    const bool may_drop = last && options_.torn_last_line == TornLastLine::Drop;
    const std::string where = name_ + ":" + std::to_string(line_no_);
    if (may_drop && !complete) {  // cut off before its newline: a writer was interrupted
      ++torn_;
      return false;
    }
    if (options_.check_utf8) {
      const size_t bad = find_invalid_utf8(line);
      if (bad != std::string::npos)
        throw Error(ErrorLocation{name_, line_no_, static_cast<long>(bad) + 1, "", "", ""}, "invalid UTF-8");
    }
    try {
      out.value = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for a number like 1e999
      if (may_drop) {
        ++torn_;
        return false;
      }
      throw Error(where + ": not valid JSON (" + (options_.invalid_hint.empty() ? std::string(e.what()) : options_.invalid_hint) +
                  ")");
    }
    if (options_.objects_only && !out.value.is_object())
      throw Error(where + ": " + expected_found("a JSON object", out.value.type_name()));
    out.line = line_no_;
    out.where = where;
    return true;
  }
  return false;
}

size_t for_each_jsonl_line(const std::string& path, const std::function<void(const JsonLine&)>& f,
                           const JsonlOptions& options) {
  JsonlReader reader = JsonlReader::open(path, options);
  JsonLine line;
  while (reader.next(line)) f(line);
  return reader.torn_lines();
}

size_t for_each_jsonl_line_in(const std::string& text, const std::string& name,
                              const std::function<void(const JsonLine&)>& f, const JsonlOptions& options) {
  std::istringstream in(text);
  JsonlReader reader(in, name, options);
  JsonLine line;
  while (reader.next(line)) f(line);
  return reader.torn_lines();
}

}  // namespace psy

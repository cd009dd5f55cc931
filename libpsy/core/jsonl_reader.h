// JSON Lines (one JSON value per line), read the one way psy reads them: blank lines (spaces,
// tabs, a CR) are skipped, every line is named FILE:LINE in errors, and a last line that an
// interrupted writer cut off (no newline at the end, or not valid JSON) is either an error or
// dropped and counted, as the caller asks (files psy appends to while it runs drop it).
#pragma once
#include <cstddef>
#include <functional>
#include <istream>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

namespace psy {

enum class TornLastLine {
  Error,  // an invalid last line is an error like any other line
  Drop    // a last line without its newline, or invalid, is skipped and counted (torn_lines())
};

struct JsonlOptions {
  TornLastLine torn_last_line = TornLastLine::Error;
  bool objects_only = false;  // a line that is not a JSON object is an error
  bool check_utf8 = false;    // invalid UTF-8 is an error naming FILE:LINE:COLUMN
  // Appended to "FILE:LINE: not valid JSON" as " (HINT)"; "" = the parser's own message.
  std::string invalid_hint;
};

struct JsonLine {
  nlohmann::json value;
  long line = 0;      // 1-based line number in the file
  std::string where;  // "FILE:LINE"
};

// Reads one JSON value per non-blank line from a stream (a file or a string). Errors are
// psy::Error naming `name` (the file) and the line number.
class JsonlReader {
 public:
  JsonlReader(std::istream& in, std::string name, JsonlOptions options = {});
  // Opens `path`; throws psy::Error "PATH: cannot open the file" when it cannot.
  static JsonlReader open(const std::string& path, JsonlOptions options = {});

  // The next value; false at the end.
  bool next(JsonLine& out);
  long line() const { return line_no_; }
  const std::string& name() const { return name_; }
  size_t torn_lines() const { return torn_; }

 private:
  std::unique_ptr<std::istream> owned_;
  std::istream* in_;
  std::string name_;
  JsonlOptions options_;
  long line_no_ = 0;
  size_t torn_ = 0;
};

// Calls f(line) for every value of the file at `path`; returns how many torn last lines were dropped.
size_t for_each_jsonl_line(const std::string& path, const std::function<void(const JsonLine&)>& f,
                           const JsonlOptions& options = {});
// The same over the text of a file already in memory, named `name` in errors.
size_t for_each_jsonl_line_in(const std::string& text, const std::string& name,
                              const std::function<void(const JsonLine&)>& f, const JsonlOptions& options = {});

}  // namespace psy

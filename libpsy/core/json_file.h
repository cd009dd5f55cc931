// Reading a JSON file with errors that name it: psy::Error "<path>: not valid JSON (<the parser's
// message, with line and column>)", or read_text_file's error when it cannot be read.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

namespace psy {

nlohmann::json read_json_file(const std::string& path);
// The same for text already in memory; `where` names its origin in the error.
nlohmann::json parse_json_text(const std::string& text, const std::string& where);

}  // namespace psy

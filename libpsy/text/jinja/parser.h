// Parses the token stream of a chat template into statements. What real chat templates use is
// supported (see builtins.h for filters and tests); anything else (include, extends, block, call
// blocks, raw, with, filter blocks, recursive loops, unknown filters or tests) is rejected here,
// at load, with one psy::Error "SOURCE:LINE:COL: ..." naming the construct and what is supported.
#pragma once
#include <string>
#include <vector>

#include "libpsy/text/jinja/ast.h"
#include "libpsy/text/jinja/lexer.h"

namespace psy::jinja {

Body parse_template(const std::vector<Token>& tokens, const std::string& source_name);

// The statements the parser accepts, for messages.
const char* supported_statements();

}  // namespace psy::jinja

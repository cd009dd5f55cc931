// Renders a parsed template: Python semantics for expressions, Jinja's scoping (a for loop's
// body gets a fresh scope each iteration, `if` shares its scope, macros see the template's
// top-level variables), and transformers' chat-template globals.
#pragma once
#include <cstddef>
#include <string>

#include "libpsy/text/jinja/ast.h"
#include "libpsy/text/jinja/value.h"

namespace psy::jinja {

// Bounds that keep hostile templates from running away (a render error names the limit).
struct RenderLimits {
  size_t max_output_bytes = size_t{1} << 28;  // 256 MiB
  size_t max_steps = 50'000'000;               // statements and expressions evaluated
  int max_call_depth = 100;                    // nested macro calls
  size_t max_list_size = 1'000'000;            // range(), list repetition
};

// Throws psy::Error "SOURCE:LINE:COL: ..." on render errors.
std::string render_body(const Body& body, const ValueDict& variables, const std::string& source_name,
                        const RenderLimits& limits);

}  // namespace psy::jinja

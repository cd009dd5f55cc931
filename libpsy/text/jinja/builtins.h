// The filters, tests, globals and methods of the chat-template environment (transformers'
// ImmutableSandboxedEnvironment: Jinja's built-ins that chat templates use, with transformers'
// tojson, raise_exception, strftime_now, namespace and dict).
#pragma once
#include <functional>
#include <string>

#include "libpsy/text/jinja/value.h"

namespace psy::jinja {

// A runtime failure inside a filter, test or method: the evaluator adds the position.
struct BuiltinError {
  std::string message;
};

bool is_known_filter(const std::string& name);
bool is_known_test(const std::string& name);
const char* known_filters();  // comma-separated, for messages
const char* known_tests();

// Calls a filter on `input`. `call` invokes a callable value (used by map/select with macros;
// may be empty). Throws BuiltinError.
Value apply_filter(const std::string& name, const Value& input, const CallArgs& args);
// Applies a test ("defined", "string", ...). Throws BuiltinError.
bool apply_test(const std::string& name, const Value& input, const CallArgs& args);
// x.name(args) for strings, lists and dicts; Undefined when `object` has no such method.
// Throws BuiltinError for a known method given bad arguments.
bool has_method(const Value& object, const std::string& name);
Value call_method(const Value& object, const std::string& name, const CallArgs& args);

// Python's json.dumps(x, ensure_ascii, indent, separators, sort_keys) as transformers' tojson
// calls it. indent < 0: none.
std::string python_json_dumps(const Value& v, bool ensure_ascii, int indent, const std::string& item_sep,
                              const std::string& key_sep, bool sort_keys);

}  // namespace psy::jinja

// A Jinja template as Hugging Face chat templates use it, parsed once and rendered many times
// with the environment transformers' apply_chat_template sets up (trim_blocks, lstrip_blocks,
// loop controls, the `generation` tag, raise_exception, strftime_now, namespace, dict, range and
// transformers' tojson = json.dumps(x, ensure_ascii=False, ...)).
//
// Load errors (syntax, unsupported statements, filters or tests) and render errors
// (raise_exception, type errors, attribute access on undefined values) are psy::Error with one
// line "SOURCE:LINE:COL: ...".
#pragma once
#include <memory>
#include <string>

#include "libpsy/text/jinja/evaluator.h"
#include "libpsy/text/jinja/value.h"

namespace psy::jinja {

struct ParsedTemplate;

class Template {
 public:
  // Parses `source`; `source_name` (e.g. "model/tokenizer_config.json:chat_template") prefixes
  // error messages.
  static Template parse(const std::string& source, const std::string& source_name);

  // Renders with `variables` as the context (messages, add_generation_prompt, bos_token, ...);
  // the environment's globals are added underneath them.
  std::string render(const ValueDict& variables, const RenderLimits& limits = {}) const;

  const std::string& source_name() const;
  const std::string& source() const;

 private:
  std::shared_ptr<const ParsedTemplate> impl_;
};

}  // namespace psy::jinja

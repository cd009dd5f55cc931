// A model folder's own chat template, rendered as transformers' apply_chat_template does.
//
// Where it comes from (as transformers v5 loads it): `chat_template.jinja` beside
// tokenizer_config.json when present, else tokenizer_config.json's "chat_template" (a string, or
// a list of {"name", "template"} of which "default" is used). Variables passed to the template:
// messages, tools (none), documents (none), add_generation_prompt, and the special-token map
// (bos_token, eos_token, unk_token, sep_token, pad_token, cls_token, mask_token: those the folder
// names, from special_tokens_map.json and tokenizer_config.json). Messages carry role and
// content, plus reasoning_content (and its alias thinking) when given.
//
// The template's added tokens (tokenizer.json's "added_tokens" and tokenizer_config.json's
// "added_tokens_decoder") are the strings that template text is split on when it is tokenised
// (chat_spans.h): as in transformers, where the rendered string is encoded with added-token
// matching, but psy applies it only to template text, never to message content.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "libpsy/text/jinja/template.h"

namespace psy {

// One message as the template sees it.
struct TemplateMessage {
  std::string role;
  std::string content;
  std::optional<std::string> reasoning_content;
};

// Messages from JSON as transformers takes them: [{"role": ..., "content": ...,
// "reasoning_content"?: ...}, ...]; `where` names the input in errors.
std::vector<TemplateMessage> template_messages_from_json(const std::string& messages_json_text,
                                                         const std::string& where);

class JinjaChatTemplate {
 public:
  // The folder's template, or nullopt when it has none. Throws psy::Error (naming the file,
  // line and column) when the template is malformed or uses an unsupported Jinja construct.
  static std::optional<JinjaChatTemplate> find(const std::string& model_dir);
  // From template text (tests, fuzzing); `special_tokens` = {"bos_token", "<s>"}, ...
  static JinjaChatTemplate from_source(const std::string& source, const std::string& source_name,
                                       std::vector<std::pair<std::string, std::string>> special_tokens = {},
                                       std::vector<std::string> added_tokens = {});

  // apply_chat_template(messages, tokenize=False, add_generation_prompt=...). Throws psy::Error
  // on render errors (raise_exception included).
  std::string render(const std::vector<TemplateMessage>& messages, bool add_generation_prompt) const;

  const std::string& source_name() const { return template_.source_name(); }
  const std::string& source() const { return template_.source(); }
  const std::vector<std::pair<std::string, std::string>>& special_tokens() const { return special_; }
  const std::vector<std::string>& added_tokens() const { return added_; }

 private:
  jinja::Template template_;
  std::vector<std::pair<std::string, std::string>> special_;  // bos_token -> "<s>", ...
  std::vector<std::string> added_;
};

}  // namespace psy

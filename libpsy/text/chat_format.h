// Which chat format a model uses: one of psy's built-in formats (chat_template.h) or the model
// folder's own Jinja template (jinja_chat_render.h). Converts implicitly from ChatTemplate, so
// code written for the built-ins keeps working.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "libpsy/text/chat_template.h"
#include "libpsy/text/jinja_chat_render.h"
#include "libpsy/text/jinja_chat_template.h"

namespace psy {

struct ChatFormat {
  ChatFormat(ChatTemplate t = ChatTemplate::Mistral) : builtin(t) {}  // NOLINT: implicit by design
  explicit ChatFormat(std::shared_ptr<const JinjaChatTemplate> model_template, JinjaChatOptions options = {})
      : jinja(std::move(model_template)), jinja_options(options) {}

  ChatTemplate builtin = ChatTemplate::Mistral;       // used when jinja is null
  std::shared_ptr<const JinjaChatTemplate> jinja;     // the model's own template
  JinjaChatOptions jinja_options;

  bool is_builtin(ChatTemplate t) const { return !jinja && builtin == t; }
};
inline bool operator==(const ChatFormat& f, ChatTemplate t) { return f.is_builtin(t); }
inline bool operator!=(const ChatFormat& f, ChatTemplate t) { return !f.is_builtin(t); }

// "auto" for the model's own template, else the built-in's name.
const char* chat_template_name(const ChatFormat& format);

std::vector<ChatSegment> render_chat(const ChatFormat& format, const std::vector<ChatMessage>& messages,
                                     const Tokenizer& tokenizer);

// "auto": the template of the model folder `model_dir` (chat_template.jinja or
// tokenizer_config.json's chat_template); psy::Error when it has none, naming the built-in
// fallbacks. Otherwise a built-in name (parse_chat_template). `key` names the setting in errors.
ChatFormat resolve_chat_format(const std::string& name, const std::string& model_dir,
                               const JinjaChatOptions& options = {}, const std::string& key = "chat template");

}  // namespace psy

#include "libpsy/text/chat_format.h"

#include "libpsy/core/error.h"

namespace psy {

const char* chat_template_name(const ChatFormat& format) {
  return format.jinja ? "auto" : chat_template_name(format.builtin);
}

std::vector<ChatSegment> render_chat(const ChatFormat& format, const std::vector<ChatMessage>& messages,
                                     const Tokenizer& tokenizer) {
  if (format.jinja) return render_chat_jinja(*format.jinja, messages, tokenizer, format.jinja_options);
  return render_chat(format.builtin, messages, tokenizer);
}

ChatFormat resolve_chat_format(const std::string& name, const std::string& model_dir, const JinjaChatOptions& options,
                               const std::string& key) {
  if (name == "auto") {
    std::optional<JinjaChatTemplate> t = JinjaChatTemplate::find(model_dir);
    if (!t)
      throw Error(key + ": auto: model folder " + model_dir +
                  " has no chat template (no chat_template.jinja, no \"chat_template\" in tokenizer_config.json); "
                  "name a built-in one instead: mistral, llama2, chatml or plain");
    return ChatFormat(std::make_shared<const JinjaChatTemplate>(std::move(*t)), options);
  }
  try {
    return ChatFormat(parse_chat_template(name));
  } catch (const Error& e) {
    throw Error(key + ": unknown chat template '" + name + "' (valid: auto, mistral, llama2, chatml, plain)");
  }
}

}  // namespace psy

#include "libpsy/generate/chat_prompt.h"

#include <algorithm>

#include "libpsy/text/segment_encoder.h"

namespace psy {

std::vector<int64_t> generation_prompt_ids(const Tokenizer& tokenizer, const std::optional<ChatFormat>& tmpl,
                                           const std::vector<ChatMessage>& messages) {
  std::vector<int32_t> ids;
  if (tmpl) {
    std::vector<ChatMessage> all = messages;
    ChatMessage open;
    open.role = ChatRole::Assistant;
    open.open = true;
    all.push_back(open);
    SegmentEncoder encoder(tokenizer);
    std::vector<TokenRange> ranges;
    encoder.encode(render_chat(*tmpl, all, tokenizer), ids, ranges);
  } else {
    if (tokenizer.bos_id() >= 0) ids.push_back(tokenizer.bos_id());
    std::string text;
    for (const auto& m : messages) {
      for (const auto& part : m.parts) text += (text.empty() ? "" : "\n\n") + part.text;
    }
    tokenizer.encode_append(text, /*chunk_start=*/true, ids);
  }
  return std::vector<int64_t>(ids.begin(), ids.end());
}

std::vector<int64_t> stop_token_ids(const DecoderConfig& config, const Tokenizer& tokenizer,
                                    const std::optional<ChatFormat>& tmpl) {
  std::vector<int64_t> out = config.eos_token_ids;
  if (tokenizer.eos_id() >= 0) out.push_back(tokenizer.eos_id());
  if (tmpl && tmpl->is_builtin(ChatTemplate::Chatml)) {
    const int32_t im_end = tokenizer.special_id("<|im_end|>");
    if (im_end >= 0) out.push_back(im_end);
  }
  if (tmpl && tmpl->jinja) {
    const int32_t closing = assistant_closing_token(*tmpl->jinja, tokenizer);
    if (closing >= 0) out.push_back(closing);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::optional<ChatFormat> parse_optional_chat_template(const std::string& name, const std::string& model_dir) {
  if (name == "none") return std::nullopt;
  return resolve_chat_format(name, model_dir, {}, "--chat-template");
}

}  // namespace psy

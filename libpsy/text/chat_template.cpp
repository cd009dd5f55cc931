#include "libpsy/text/chat_template.h"

#include "libpsy/core/error.h"

namespace psy {

const char* role_name(ChatRole role) {
  switch (role) {
    case ChatRole::System: return "system";
    case ChatRole::User: return "user";
    case ChatRole::Assistant: return "assistant";
  }
  return "user";
}

ChatTemplate parse_chat_template(const std::string& name) {
  if (name == "mistral") return ChatTemplate::Mistral;
  if (name == "llama2") return ChatTemplate::Llama2;
  if (name == "chatml") return ChatTemplate::Chatml;
  if (name == "plain") return ChatTemplate::Plain;
  throw Error("unknown chat template '" + name + "' (valid: mistral, llama2, chatml, plain)");
}

const char* chat_template_name(ChatTemplate t) {
  switch (t) {
    case ChatTemplate::Mistral: return "mistral";
    case ChatTemplate::Llama2: return "llama2";
    case ChatTemplate::Chatml: return "chatml";
    case ChatTemplate::Plain: return "plain";
  }
  return "mistral";
}

namespace {

class Renderer {
 public:
  Renderer(ChatTemplate t, const Tokenizer& tok) : tmpl_(t), tok_(tok) {}

  void text(ChatRole role, const std::string& s, bool target = false) {
    if (s.empty()) return;
    out.push_back({role, "template", s, -1, target});
  }
  void control(ChatRole role, const char* section, int32_t id, bool target = false) {
    out.push_back({role, section, tok_.id_to_piece(id), id, target});
  }
  void parts(ChatRole role, const std::vector<MessagePart>& parts) {
    for (const auto& p : parts)
      if (!p.text.empty()) out.push_back({role, p.section, p.text, -1, p.target});
  }
  int32_t need(int32_t id, const char* what) const {
    if (id < 0)
      throw Error(std::string("chat template '") + chat_template_name(tmpl_) + "' needs a " + what +
                      " token but tokenizer " + tok_.name() + " has none",
                  kExitFailure);
    return id;
  }
  int32_t need_special(const char* token) const {
    int32_t id = tok_.special_id(token);
    if (id < 0)
      throw Error(std::string("chat template 'chatml' needs the control token ") + token + " but tokenizer " +
                      tok_.name() + " has no such control piece (train one with `psy tokenizer train`, which " +
                      "adds <|im_start|> and <|im_end|>, or use the mistral, llama2 or plain template)",
                  kExitFailure);
    return id;
  }

  std::vector<ChatSegment> out;

 private:
  ChatTemplate tmpl_;
  const Tokenizer& tok_;
};

bool any_text(const std::vector<MessagePart>& parts) {
  for (const auto& p : parts)
    if (!p.text.empty()) return true;
  return false;
}

bool ends_with_target(const std::vector<MessagePart>& parts) {
  for (auto it = parts.rbegin(); it != parts.rend(); ++it)
    if (!it->text.empty()) return it->target;
  return false;
}

void check_open(const std::vector<ChatMessage>& m) {
  for (size_t i = 0; i < m.size(); ++i) {
    if (m[i].open && (i + 1 != m.size() || m[i].role != ChatRole::Assistant))
      throw Error("chat: only the last message may be open, and it must be an assistant message", kExitFailure);
  }
}

// Splits off a leading system message; checks user/assistant alternation.
size_t alternation(const std::vector<ChatMessage>& m, const char* tmpl) {
  size_t first = (!m.empty() && m[0].role == ChatRole::System) ? 1 : 0;
  for (size_t i = first; i < m.size(); ++i) {
    ChatRole want = ((i - first) % 2 == 0) ? ChatRole::User : ChatRole::Assistant;
    if (m[i].role != want)
      throw Error(std::string("chat template '") + tmpl + "': message " + std::to_string(i) + " is " +
                      role_name(m[i].role) + " but " + role_name(want) +
                      " was expected (after an optional system message, roles alternate user/assistant)",
                  kExitFailure);
  }
  return first;
}

void render_mistral(const std::vector<ChatMessage>& m, Renderer& r, const Tokenizer& tok, bool llama2) {
  const int32_t bos = r.need(tok.bos_id(), "BOS");
  const int32_t eos = r.need(tok.eos_id(), "EOS");
  const size_t first = alternation(m, llama2 ? "llama2" : "mistral");
  const std::vector<MessagePart>* system = first == 1 ? &m[0].parts : nullptr;
  if (!llama2) r.control(ChatRole::User, "bos", bos);
  for (size_t i = first; i < m.size(); ++i) {
    const ChatMessage& msg = m[i];
    if (msg.role == ChatRole::User) {
      if (llama2) r.control(ChatRole::User, "bos", bos);
      r.text(ChatRole::User, "[INST] ");
      const bool fold = i == first && system && any_text(*system);
      if (fold) {
        if (llama2) r.text(ChatRole::System, "<<SYS>>\n");
        r.parts(ChatRole::System, *system);
        if (llama2) {
          r.text(ChatRole::System, "\n<</SYS>>\n\n");
        } else if (any_text(msg.parts)) {
          r.text(ChatRole::System, "\n\n");
        }
      }
      r.parts(ChatRole::User, msg.parts);
      r.text(ChatRole::User, " [/INST]");
    } else {
      if (llama2) r.text(ChatRole::Assistant, " ");
      r.parts(ChatRole::Assistant, msg.parts);
      if (!msg.open) {
        const bool t = ends_with_target(msg.parts);
        if (llama2) r.text(ChatRole::Assistant, " ", t);
        r.control(ChatRole::Assistant, "eos", eos, t);
      }
    }
  }
}

void render_chatml(const std::vector<ChatMessage>& m, Renderer& r) {
  const int32_t start = r.need_special("<|im_start|>");
  const int32_t end = r.need_special("<|im_end|>");
  for (const auto& msg : m) {
    r.control(msg.role, "control", start);
    r.text(msg.role, std::string(role_name(msg.role)) + "\n");
    r.parts(msg.role, msg.parts);
    if (msg.open) continue;
    const bool t = msg.role == ChatRole::Assistant && ends_with_target(msg.parts);
    r.control(msg.role, "eos", end, t);
    r.text(msg.role, "\n");
  }
}

void render_plain(const std::vector<ChatMessage>& m, Renderer& r, const Tokenizer& tok) {
  const int32_t eos = r.need(tok.eos_id(), "EOS");
  if (tok.bos_id() >= 0) r.control(ChatRole::User, "bos", tok.bos_id());
  for (const auto& msg : m) {
    if (msg.role == ChatRole::Assistant) {
      r.parts(msg.role, msg.parts);
      if (!msg.open) r.control(msg.role, "eos", eos, ends_with_target(msg.parts));
    } else {
      if (!any_text(msg.parts)) continue;
      r.parts(msg.role, msg.parts);
      r.text(msg.role, "\n\n");
    }
  }
}

}  // namespace

std::vector<ChatSegment> render_chat(ChatTemplate tmpl, const std::vector<ChatMessage>& messages,
                                     const Tokenizer& tokenizer) {
  check_open(messages);
  Renderer r(tmpl, tokenizer);
  switch (tmpl) {
    case ChatTemplate::Mistral: render_mistral(messages, r, tokenizer, false); break;
    case ChatTemplate::Llama2: render_mistral(messages, r, tokenizer, true); break;
    case ChatTemplate::Chatml: render_chatml(messages, r); break;
    case ChatTemplate::Plain: render_plain(messages, r, tokenizer); break;
  }
  return std::move(r.out);
}

}  // namespace psy

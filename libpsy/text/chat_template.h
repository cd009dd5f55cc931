// Chat templates: render a list of messages (system, user, assistant) into segments with
// roles, sections and target flags, ready for segment-wise tokenisation (segment_encoder.h).
// Control tokens (BOS, EOS, <|im_start|>, <|im_end|>) are segments that carry a token id and are
// inserted by id; message text is never scanned for markup, so a client who types "[INST]",
// "</s>" or "<|im_start|>" gets ordinary text tokens.
//
//  mistral  Mistral-7B-Instruct-v0.2 (its Hugging Face chat template):
//           <s>[INST] {system}\n\n{user} [/INST]{assistant}</s>[INST] {user} [/INST]...
//           The system prompt is folded into the first user turn. "[INST]"/"[/INST]" are text
//           (v0.2's SentencePiece vocabulary has no such pieces); <s> and </s> are ids.
//  llama2   Llama-2-chat: <s>[INST] <<SYS>>\n{system}\n<</SYS>>\n\n{user} [/INST] {assistant} </s>
//           <s>[INST] {user} [/INST] ... (BOS before every user turn).
//  chatml   <|im_start|>{role}\n{content}<|im_end|>\n ... ; <|im_start|> and <|im_end|> must be
//           control tokens of the vocabulary (psy tokenizer train adds them); <|im_end|> ends an
//           assistant turn (it plays EOS's part). No BOS.
//  plain    for base models: <s>{system}\n\n{user}\n\n{assistant}</s>{user}\n\n{assistant}</s>...
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "libpsy/text/tokenizer.h"

namespace psy {

enum class ChatRole { System, User, Assistant };
const char* role_name(ChatRole role);

enum class ChatTemplate { Mistral, Llama2, Chatml, Plain };
// "mistral" | "llama2" | "chatml" | "plain"; throws psy::Error naming the valid ones.
ChatTemplate parse_chat_template(const std::string& name);
const char* chat_template_name(ChatTemplate t);

// A piece of a message's content; `section` names what it is (e.g. "instruction",
// "background", "client", "observation", "reasoning", "response"); `target` marks text the
// model is trained to produce.
struct MessagePart {
  std::string text;
  std::string section;
  bool target = false;
};

struct ChatMessage {
  ChatRole role = ChatRole::User;
  std::vector<MessagePart> parts;
  // Only the last message may be open: an assistant message rendered without its end (EOS),
  // i.e. where generation continues. An open assistant message with no parts is the usual
  // "generation prompt".
  bool open = false;
};

// One rendered piece: text (token_id < 0) or a control token inserted by id.
// Template text gets section "template"; control tokens get "bos", "eos" or "control".
struct ChatSegment {
  ChatRole role = ChatRole::User;
  std::string section;
  std::string text;        // for control tokens: the token's text (e.g. "</s>")
  int32_t token_id = -1;
  bool target = false;
};

// The end of a closed assistant message (EOS, or <|im_end|>, and template text before it) is a
// target exactly when the message's last part is. Throws psy::Error (exit code 1) when the
// template needs a token the tokenizer lacks, or when roles break the template's rules (after
// an optional system message, user and assistant must alternate starting with user, except in
// `plain` and `chatml`).
std::vector<ChatSegment> render_chat(ChatTemplate tmpl, const std::vector<ChatMessage>& messages,
                                     const Tokenizer& tokenizer);

}  // namespace psy

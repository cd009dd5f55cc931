// psy's chat messages (parts with sections and target flags) rendered through a model's own
// Jinja template into ChatSegments, so that the string the segments spell is byte-identical to
// transformers' apply_chat_template and every byte keeps knowing where it came from.
//
// How message text is told apart from template text: the conversation is rendered twice, once
// with the real texts (the output) and once with each message field replaced by a unique
// placeholder (this shows which template text surrounds which field, in what order). The output
// is then matched against that skeleton: template text must match exactly, and each field must
// appear whole or with leading/trailing whitespace removed (templates trim and strip content).
// A template that rewrites or inspects content (so the two renders differ in template text, a
// field appears twice, or a target field disappears) fails with one psy::Error naming the
// message: never a silently different rendering.
//
// Template text is split at the tokenizer's added tokens (control tokens become ids); message
// text never is, so a client who types "<|im_end|>" gets text tokens.
//
// Targets: for a closed assistant message whose last part is a target (as render_chat's
// built-ins), everything the model has to produce is target: the template text from the end of
// the generation prompt (render of the messages before it with add_generation_prompt, when the
// template is prefix-preserving) to the first added token after its last field (<|im_end|>,
// <|eot_id|>, </s>) inclusive. A template that writes nothing after the last message (GLM-4)
// gives no closing token to learn.
//
// The last message may be open (render_chat's rule): with no parts it is the generation prompt
// (add_generation_prompt = true); with parts the output stops after its last field
// (transformers' continue_final_message).
#pragma once
#include <vector>

#include "libpsy/text/chat_template.h"
#include "libpsy/text/jinja_chat_template.h"
#include "libpsy/text/tokenizer.h"

namespace psy {

struct JinjaChatOptions {
  // Put an assistant message's observation and reasoning parts into its reasoning_content
  // (Qwen3's <think> block) instead of its content.
  bool reasoning_slot = false;
};

std::vector<ChatSegment> render_chat_jinja(const JinjaChatTemplate& tmpl, const std::vector<ChatMessage>& messages,
                                           const Tokenizer& tokenizer, const JinjaChatOptions& options = {});

// The added token that closes an assistant message in this template (<|im_end|>, <|eot_id|>,
// </s>): the first one after the reply in a probe conversation; -1 when there is none (GLM-4)
// or the template rejects the probe.
int32_t assistant_closing_token(const JinjaChatTemplate& tmpl, const Tokenizer& tokenizer);

// The messages transformers would be given for `messages` (role, content, reasoning_content),
// and whether the last (open, empty) message asks for add_generation_prompt.
std::vector<TemplateMessage> template_messages(const std::vector<ChatMessage>& messages, const JinjaChatOptions& options,
                                               bool& add_generation_prompt);

}  // namespace psy

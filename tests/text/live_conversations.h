// Psy-Insight sessions as plain conversations for the live chat-template tests: system = a short
// instruction + the session's background, user = client turns, assistant = therapist turns,
// consecutive turns of one speaker merged with "\n" (as psy's sample builder merges them; a
// session that opens with the therapist gets an empty first user message).
#pragma once
#include <vector>

#include <nlohmann/json.hpp>

#include "libpsy/data/session.h"
#include "libpsy/text/jinja_chat_template.h"

namespace psy::test {

std::vector<TemplateMessage> session_conversation(const Session& s);
nlohmann::json messages_json(const std::vector<TemplateMessage>& messages);

}  // namespace psy::test

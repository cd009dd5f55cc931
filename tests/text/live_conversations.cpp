#include "tests/text/live_conversations.h"

namespace psy::test {

std::vector<TemplateMessage> session_conversation(const Session& s) {
  std::vector<TemplateMessage> out;
  out.push_back({"system", "You are a psychological counselor. Continue the counseling session.\n\nBackground: " +
                               s.background, std::nullopt});
  for (const Turn& t : s.turns) {
    const std::string role = t.is_therapist() ? "assistant" : "user";
    if (out.size() == 1 && role == "assistant") out.push_back({"user", "", std::nullopt});
    if (out.back().role == role) {
      out.back().content += "\n" + t.content;
    } else {
      out.push_back({role, t.content, std::nullopt});
    }
  }
  return out;
}

nlohmann::json messages_json(const std::vector<TemplateMessage>& messages) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& m : messages) {
    nlohmann::json j = {{"role", m.role}, {"content", m.content}};
    if (m.reasoning_content) j["reasoning_content"] = *m.reasoning_content;
    a.push_back(j);
  }
  return a;
}

}  // namespace psy::test

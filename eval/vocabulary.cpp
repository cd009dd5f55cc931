#include "eval/vocabulary.h"

namespace psy::eval {

uint32_t Vocabulary::id(std::string_view text) {
  const auto it = ids_.find(text);
  if (it != ids_.end()) return it->second;
  const auto id = static_cast<uint32_t>(texts_.size());
  texts_.emplace_back(text);
  ids_.emplace(texts_.back(), id);
  return id;
}

void Vocabulary::clear() {
  ids_.clear();
  texts_.clear();
  ++generation_;
}

}  // namespace psy::eval

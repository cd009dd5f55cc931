#include "eval/vocabulary.h"

namespace psy::eval {

uint64_t Vocabulary::hash(std::string_view text) {
  uint64_t h = 14695981039346656037ull;
  for (const char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h ^ (h >> 29);  // the low bits pick the slot: mix the high ones in
}

uint32_t Vocabulary::id(std::string_view text) {
  if (2 * (texts_.size() + 1) > slots_.size()) grow();
  const uint64_t h = hash(text);
  const size_t mask = slots_.size() - 1;
  size_t k = h & mask;
  for (; slots_[k].id != kEmpty; k = (k + 1) & mask)
    if (slots_[k].hash == h && views_[slots_[k].id] == text) return slots_[k].id;
  const auto id = static_cast<uint32_t>(texts_.size());
  texts_.emplace_back(text);
  views_.emplace_back(texts_.back());
  slots_[k] = {h, id};
  return id;
}

void Vocabulary::grow() {
  std::vector<Slot> old;
  old.swap(slots_);
  slots_.assign(old.empty() ? 1024 : 2 * old.size(), Slot{});
  const size_t mask = slots_.size() - 1;
  for (const Slot& s : old) {
    if (s.id == kEmpty) continue;
    size_t k = s.hash & mask;
    while (slots_[k].id != kEmpty) k = (k + 1) & mask;
    slots_[k] = s;
  }
}

void Vocabulary::clear() {
  texts_.clear();
  views_.clear();
  slots_.clear();
  ++generation_;
}

}  // namespace psy::eval

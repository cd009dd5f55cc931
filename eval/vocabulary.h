// Interning of token strings: equal strings get equal dense ids (0, 1, 2, ... in order of first
// sight), so that metrics can compare and hash 32-bit ids instead of strings. Look-ups take a
// string_view and allocate nothing for a string already seen.
//
// Not thread-safe: one per thread (the scorer gives each worker its own). clear() forgets every
// id and bumps generation(), so that tables indexed by id can tell that they are stale.
#pragma once
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>

namespace psy::eval {

class Vocabulary {
 public:
  // The id of `text`, interning it when new.
  uint32_t id(std::string_view text);
  const std::string& text(uint32_t id) const { return texts_[id]; }
  size_t size() const { return texts_.size(); }
  void clear();
  uint64_t generation() const { return generation_; }

 private:
  std::deque<std::string> texts_;                        // id -> text (stable addresses)
  std::unordered_map<std::string_view, uint32_t> ids_;   // views into texts_
  uint64_t generation_ = 0;
};

}  // namespace psy::eval

// Interning of token strings: equal strings get equal dense ids (0, 1, 2, ... in order of first
// sight), so that metrics can compare and hash 32-bit ids instead of strings. Look-ups take a
// string_view and allocate nothing for a string already seen (an open-addressing table of
// (hash, id); the texts themselves are stored once).
//
// Not thread-safe: one per thread (the scorer gives each worker its own). clear() forgets every
// id and bumps generation(), so that tables indexed by id can tell that they are stale.
#pragma once
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace psy::eval {

class Vocabulary {
 public:
  Vocabulary() = default;
  // Movable (a deque's elements stay where they are), not copyable (views_ points into texts_).
  Vocabulary(Vocabulary&&) noexcept = default;
  Vocabulary& operator=(Vocabulary&&) noexcept = default;
  Vocabulary(const Vocabulary&) = delete;
  Vocabulary& operator=(const Vocabulary&) = delete;

  // The id of `text`, interning it when new.
  uint32_t id(std::string_view text);
  const std::string& text(uint32_t id) const { return texts_[id]; }
  size_t size() const { return texts_.size(); }
  void clear();
  uint64_t generation() const { return generation_; }

 private:
  static uint64_t hash(std::string_view text);  // 64-bit FNV-1a
  void grow();

  struct Slot {
    uint64_t hash = 0;
    uint32_t id = kEmpty;
  };
  static constexpr uint32_t kEmpty = UINT32_MAX;
  std::deque<std::string> texts_;   // id -> text (elements never move)
  std::vector<std::string_view> views_;  // id -> texts_[id]
  std::vector<Slot> slots_;         // open addressing, linear probing, at most half full
  uint64_t generation_ = 0;
};

}  // namespace psy::eval

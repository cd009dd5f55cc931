#include "libpsy/text/split_regex.h"

#include "libpsy/core/error.h"
#include "libpsy/core/utf8.h"
#include "libpsy/text/unicode_props.h"

namespace psy {

namespace {

constexpr uint32_t kSpaceBit = 1u << 31;  // beside ICU's general-category bits (0..29)
constexpr long kMaxStepsPerMatch = 2000000;

using Inst = SplitRegex::Inst;
using Op = SplitRegex::Op;
using CharClass = SplitRegex::CharClass;
using ClassItem = SplitRegex::ClassItem;

class Compiler {
 public:
  Compiler(const std::string& pattern, std::vector<Inst>& code, std::vector<CharClass>& classes)
      : cps_(decode_utf8(pattern)), pattern_(pattern), code_(code), classes_(classes) {}

  void compile() {
    if (find_invalid_utf8(pattern_) != std::string_view::npos) fail("the pattern is not valid UTF-8");
    bool icase = false;
    if (starts_with(U"(?i)")) {
      pos_ += 4;
      icase = true;
    }
    alternation(icase, 0);
    if (pos_ != cps_.size()) fail("unbalanced ')'");
    emit(Inst{});  // Match
  }

 private:
  std::vector<char32_t> cps_;
  const std::string& pattern_;
  std::vector<Inst>& code_;
  std::vector<CharClass>& classes_;
  size_t pos_ = 0;

  [[noreturn]] void fail(const std::string& what) const {
    throw Error("regex '" + pattern_ + "': " + what + " at character " + std::to_string(pos_) +
                " (supported: literals, '.', classes with \\p{..} \\s \\d \\w, alternation, groups, (?i:...), "
                "lookahead (?=...) (?!...), quantifiers on single characters and classes, '?' on groups)");
  }
  bool at_end() const { return pos_ >= cps_.size(); }
  char32_t peek(size_t ahead = 0) const { return pos_ + ahead < cps_.size() ? cps_[pos_ + ahead] : 0; }
  bool starts_with(const std::u32string& s) const {
    if (pos_ + s.size() > cps_.size()) return false;
    for (size_t i = 0; i < s.size(); ++i)
      if (cps_[pos_ + i] != s[i]) return false;
    return true;
  }
  int emit(const Inst& inst) {
    code_.push_back(inst);
    return static_cast<int>(code_.size()) - 1;
  }
  int here() const { return static_cast<int>(code_.size()); }

  void alternation(bool icase, int depth) {
    if (depth > 50) fail("groups nested too deeply");
    std::vector<int> jumps_to_end;
    while (true) {
      const int split = emit(Inst{Op::Split});
      sequence(icase, depth);
      if (peek() != U'|') {
        // Last alternative: no split needed; turn the placeholder into a no-op jump.
        code_[static_cast<size_t>(split)].op = Op::Jmp;
        code_[static_cast<size_t>(split)].x = split + 1;
        break;
      }
      ++pos_;  // '|'
      jumps_to_end.push_back(emit(Inst{Op::Jmp}));
      code_[static_cast<size_t>(split)].x = split + 1;
      code_[static_cast<size_t>(split)].y = here();
    }
    for (int j : jumps_to_end) code_[static_cast<size_t>(j)].x = here();
  }

  void sequence(bool icase, int depth) {
    while (!at_end() && peek() != U'|' && peek() != U')') atom(icase, depth);
  }

  // Reads a quantifier after an atom; false when there is none.
  bool quantifier(int& min, int& max, bool& greedy) {
    greedy = true;
    const char32_t q = peek();
    if (q == U'?') {
      min = 0, max = 1;
    } else if (q == U'*') {
      min = 0, max = -1;
    } else if (q == U'+') {
      min = 1, max = -1;
    } else if (q == U'{' && peek(1) >= U'0' && peek(1) <= U'9') {
      size_t p = pos_ + 1;
      auto number = [&](int& out) {
        long v = 0;
        size_t start = p;
        while (p < cps_.size() && cps_[p] >= U'0' && cps_[p] <= U'9') {
          v = v * 10 + static_cast<long>(cps_[p] - U'0');
          if (v > 100000) fail("repetition count too large");
          ++p;
        }
        out = static_cast<int>(v);
        return p > start;
      };
      number(min);
      max = min;
      if (p < cps_.size() && cps_[p] == U',') {
        ++p;
        if (!number(max)) max = -1;
      }
      if (p >= cps_.size() || cps_[p] != U'}') fail("malformed {m,n} quantifier");
      if (max >= 0 && max < min) fail("{m,n} with n < m");
      pos_ = p;
    } else {
      return false;
    }
    ++pos_;
    if (peek() == U'?') {
      greedy = false;
      ++pos_;
    } else if (peek() == U'+') {
      fail("possessive quantifiers are not supported");
    }
    if (peek() == U'?' || peek() == U'*' || peek() == U'+' || (peek() == U'{' && peek(1) >= U'0' && peek(1) <= U'9'))
      fail("nested quantifiers are not supported");
    return true;
  }

  void atom(bool icase, int depth) {
    const char32_t c = peek();
    if (c == U'(') {
      group(icase, depth);
      return;
    }
    Inst unit;
    if (c == U'[') {
      unit.op = Op::Class;
      unit.cls = char_class(icase);
    } else if (c == U'.') {
      ++pos_;
      unit.op = Op::Any;
    } else if (c == U'\\') {
      ++pos_;
      ClassItem item;
      char32_t literal = 0;
      if (escape(item, literal, /*in_class=*/false)) {
        unit.op = Op::Char;
        unit.c = icase ? unicode::fold_case(literal) : literal;
        unit.icase = icase;
      } else {
        CharClass cls;
        cls.items.push_back(item);
        classes_.push_back(cls);
        unit.op = Op::Class;
        unit.cls = static_cast<int>(classes_.size()) - 1;
      }
    } else if (c == U'^' || c == U'$') {
      fail("anchors are not supported");
    } else if (c == U'*' || c == U'+' || c == U'?' || c == U'{') {
      if (c == U'{' && !(peek(1) >= U'0' && peek(1) <= U'9')) {
        ++pos_;
        unit.op = Op::Char;
        unit.c = c;
      } else {
        fail("a quantifier with nothing to repeat");
      }
    } else {
      ++pos_;
      unit.op = Op::Char;
      unit.c = icase ? unicode::fold_case(c) : c;
      unit.icase = icase;
    }
    int min = 1, max = 1;
    bool greedy = true;
    if (!quantifier(min, max, greedy)) {
      emit(unit);
      return;
    }
    Inst rep = unit;
    rep.unit = unit.op;
    rep.op = Op::Repeat;
    rep.min = min;
    rep.max = max;
    rep.greedy = greedy;
    emit(rep);
  }

  void group(bool icase, int depth) {
    ++pos_;  // '('
    bool look = false, negated = false;
    if (peek() == U'?') {
      if (starts_with(U"?:")) {
        pos_ += 2;
      } else if (starts_with(U"?i:")) {
        pos_ += 3;
        icase = true;
      } else if (starts_with(U"?=") || starts_with(U"?!")) {
        look = true;
        negated = peek(1) == U'!';
        pos_ += 2;
      } else if (starts_with(U"?<=") || starts_with(U"?<!")) {
        fail("lookbehind is not supported");
      } else {
        fail("this group syntax is not supported");
      }
    }
    if (look) {
      Inst l{Op::Look};
      l.negated = negated;
      const int at = emit(l);
      alternation(icase, depth + 1);
      if (peek() != U')') fail("missing ')'");
      ++pos_;
      emit(Inst{Op::LookEnd});
      code_[static_cast<size_t>(at)].x = here();
      int min, max;
      bool greedy;
      if (quantifier(min, max, greedy)) fail("quantified lookahead is not supported");
      return;
    }
    // An optional group: Split(body, after); body; after.
    const size_t mark_code = code_.size();
    alternation(icase, depth + 1);
    if (peek() != U')') fail("missing ')'");
    ++pos_;
    int min = 1, max = 1;
    bool greedy = true;
    if (!quantifier(min, max, greedy) || (min == 1 && max == 1)) return;
    if (!(min == 0 && max == 1)) fail("only '?' may follow a group");
    // Insert a Split before the body: shift the body's jump targets by one.
    std::vector<Inst> body(code_.begin() + static_cast<long>(mark_code), code_.end());
    code_.resize(mark_code);
    const int split_at = emit(Inst{Op::Split});
    for (Inst& b : body) {
      if (b.op == Op::Split || b.op == Op::Jmp || b.op == Op::Look) {
        b.x += 1;
        if (b.op == Op::Split) b.y += 1;
      }
      code_.push_back(b);
    }
    Inst& s = code_[static_cast<size_t>(split_at)];
    s.x = greedy ? split_at + 1 : here();
    s.y = greedy ? here() : split_at + 1;
  }

  // After a backslash. Returns true for a literal (in `literal`), false for a class item.
  bool escape(ClassItem& item, char32_t& literal, bool in_class) {
    if (at_end()) fail("a trailing backslash");
    const char32_t e = cps_[pos_++];
    auto category = [&](bool negated) {
      std::string name;
      if (peek() == U'{') {
        ++pos_;
        while (!at_end() && peek() != U'}') {
          if (peek() > 0x7F) fail("unknown property");
          name += static_cast<char>(cps_[pos_++]);
        }
        if (at_end()) fail("unterminated \\p{");
        ++pos_;
      } else if (!at_end() && peek() < 0x80) {
        name += static_cast<char>(cps_[pos_++]);
      }
      if (!name.empty() && name[0] == '^') {
        negated = !negated;
        name.erase(0, 1);
      }
      const uint32_t mask = unicode::property_mask(name);
      if (mask == 0) fail("unknown Unicode property '" + name + "' (general categories such as L, N, M, P, S, Z, Lu, Nd are supported)");
      item.kind = ClassItem::Category;
      item.mask = mask;
      item.negated = negated;
      return false;
    };
    auto hex = [&](size_t digits, bool braced) -> char32_t {
      char32_t v = 0;
      size_t n = 0;
      while (!at_end() && (braced ? peek() != U'}' : n < digits)) {
        const char32_t h = peek();
        int d = h >= U'0' && h <= U'9' ? static_cast<int>(h - U'0')
                : h >= U'a' && h <= U'f' ? static_cast<int>(h - U'a' + 10)
                : h >= U'A' && h <= U'F' ? static_cast<int>(h - U'A' + 10) : -1;
        if (d < 0) fail("a malformed hexadecimal escape");
        v = v * 16 + static_cast<char32_t>(d);
        if (v > 0x10FFFF) fail("a code point above U+10FFFF");
        ++pos_;
        ++n;
      }
      if (braced) {
        if (at_end() || n == 0) fail("a malformed \\x{...} escape");
        ++pos_;
      } else if (n != digits) {
        fail("a malformed hexadecimal escape");
      }
      return v;
    };
    switch (e) {
      case U'p': return category(false);
      case U'P': return category(true);
      case U's': item.kind = ClassItem::Space; item.negated = false; return false;
      case U'S': item.kind = ClassItem::Space; item.negated = true; return false;
      case U'd': item.kind = ClassItem::Category; item.mask = unicode::decimal_mask(); item.negated = false; return false;
      case U'D': item.kind = ClassItem::Category; item.mask = unicode::decimal_mask(); item.negated = true; return false;
      case U'w': item.kind = ClassItem::Word; item.negated = false; return false;
      case U'W': item.kind = ClassItem::Word; item.negated = true; return false;
      case U'r': literal = U'\r'; return true;
      case U'n': literal = U'\n'; return true;
      case U't': literal = U'\t'; return true;
      case U'f': literal = U'\f'; return true;
      case U'v': literal = U'\v'; return true;
      case U'a': literal = 0x07; return true;
      case U'e': literal = 0x1B; return true;
      case U'x':
        if (peek() == U'{') {
          ++pos_;
          literal = hex(0, true);
        } else {
          literal = hex(2, false);
        }
        return true;
      case U'u': literal = hex(4, false); return true;
      default: break;
    }
    if ((e >= U'0' && e <= U'9') || (e >= U'a' && e <= U'z') || (e >= U'A' && e <= U'Z'))
      fail(std::string("the escape \\") + static_cast<char>(e) + (in_class ? " inside a class" : "") + " is not supported");
    literal = e;  // escaped punctuation or any non-ASCII character stands for itself
    return true;
  }

  int char_class(bool icase) {
    ++pos_;  // '['
    CharClass cls;
    cls.icase = icase;
    if (peek() == U'^') {
      cls.negated = true;
      ++pos_;
    }
    bool first = true;
    while (true) {
      if (at_end()) fail("an unterminated character class");
      char32_t c = peek();
      if (c == U']' && !first) {
        ++pos_;
        break;
      }
      first = false;
      if (c == U'[') fail("nested classes and class set operations are not supported");
      if (c == U'&' && peek(1) == U'&') fail("class intersection is not supported");
      ClassItem item;
      char32_t lo;
      bool is_literal = true;
      if (c == U'\\') {
        ++pos_;
        is_literal = escape(item, lo, true);
      } else {
        lo = c;
        ++pos_;
      }
      if (!is_literal) {
        cls.items.push_back(item);
        continue;
      }
      char32_t hi = lo;
      if (peek() == U'-' && peek(1) != U']' && pos_ + 1 < cps_.size()) {
        ++pos_;
        char32_t h = peek();
        if (h == U'\\') {
          ++pos_;
          ClassItem other;
          if (!escape(other, h, true)) fail("a range ending in a class escape");
        } else {
          ++pos_;
        }
        hi = h;
        if (hi < lo) fail("a character range out of order");
      }
      ClassItem r;
      r.kind = ClassItem::Range;
      r.lo = lo;
      r.hi = hi;
      cls.items.push_back(r);
    }
    classes_.push_back(std::move(cls));
    return static_cast<int>(classes_.size()) - 1;
  }
};

}  // namespace

// Runs the compiled program over one text.
class SplitRegexMatcher {
 public:
  SplitRegexMatcher(const SplitRegex& re, std::string_view text) : re_(re) {
    cps_.reserve(text.size());
    offsets_.reserve(text.size() + 1);
    size_t i = 0;
    while (i < text.size()) {
      const auto b0 = static_cast<unsigned char>(text[i]);
      size_t len = b0 < 0x80 ? 1 : (b0 & 0xE0) == 0xC0 ? 2 : (b0 & 0xF0) == 0xE0 ? 3 : (b0 & 0xF8) == 0xF0 ? 4 : 1;
      if (i + len > text.size()) len = 1;
      char32_t cp;
      if (len == 1) {
        cp = b0 < 0x80 ? b0 : 0xFFFD;
      } else {
        cp = b0 & (0xFF >> (len + 1));
        for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
      }
      cps_.push_back(cp);
      offsets_.push_back(i);
      uint32_t m = unicode::category_mask(cp);
      if (unicode::is_white_space(cp)) m |= kSpaceBit;
      masks_.push_back(m);
      i += len;
    }
    offsets_.push_back(text.size());
  }

  std::vector<std::pair<size_t, size_t>> find_all() {
    std::vector<std::pair<size_t, size_t>> out;
    size_t start = 0;
    while (start < cps_.size()) {
      steps_ = 0;
      const long end = run(0, start);
      if (end > static_cast<long>(start)) {
        out.emplace_back(offsets_[start], offsets_[static_cast<size_t>(end)]);
        start = static_cast<size_t>(end);
      } else {
        ++start;
      }
    }
    return out;
  }

 private:
  const SplitRegex& re_;
  std::vector<char32_t> cps_;
  std::vector<size_t> offsets_;
  std::vector<uint32_t> masks_;
  long steps_ = 0;

  struct Frame {
    int pc;
    long pos;
    long lo, hi;  // for a pending repetition: the positions still to try
    bool repeat;
    bool greedy;
  };

  bool class_matches(const SplitRegex::CharClass& cls, size_t i) const {
    const char32_t cp = cps_[i];
    const uint32_t m = masks_[i];
    bool any = false;
    for (const auto& item : cls.items) {
      bool hit = false;
      switch (item.kind) {
        case ClassItem::Range:
          hit = cp >= item.lo && cp <= item.hi;
          if (!hit && cls.icase) {
            const char32_t f = unicode::fold_case(cp);
            hit = f >= item.lo && f <= item.hi;
            if (!hit) {
              // A folded range bound (e.g. [A-Z] under (?i) matching 'q').
              for (char32_t b = item.lo; b <= item.hi && b - item.lo < 512; ++b)
                if (unicode::fold_case(b) == f) {
                  hit = true;
                  break;
                }
            }
          }
          break;
        case ClassItem::Category: hit = (m & item.mask) != 0; break;
        case ClassItem::Space: hit = (m & kSpaceBit) != 0; break;
        case ClassItem::Word:
          hit = (m & unicode::word_mask()) != 0;
          break;
      }
      if (item.negated) hit = !hit;
      if (hit) {
        any = true;
        break;
      }
    }
    return any != cls.negated;
  }

  bool unit_matches(const Inst& inst, Op unit, size_t i) const {
    switch (unit) {
      case Op::Char:
        return inst.icase ? unicode::fold_case(cps_[i]) == inst.c : cps_[i] == inst.c;
      case Op::Class: return class_matches(re_.classes_[static_cast<size_t>(inst.cls)], i);
      case Op::Any: return cps_[i] != U'\n';
      default: return false;
    }
  }

  // End of the highest-priority match of the program from `pc` at `pos`, or -1.
  long run(int start_pc, long start_pos) {
    std::vector<Frame> stack;
    int pc = start_pc;
    long pos = start_pos;
    const long n = static_cast<long>(cps_.size());
    while (true) {
      if (++steps_ > kMaxStepsPerMatch)
        throw Error("regex '" + re_.pattern_ + "' needs too much backtracking on this text", kExitFailure);
      const Inst& inst = re_.code_[static_cast<size_t>(pc)];
      bool ok = true;
      switch (inst.op) {
        case Op::Char:
        case Op::Class:
        case Op::Any:
          if (pos < n && unit_matches(inst, inst.op, static_cast<size_t>(pos))) {
            ++pos;
            ++pc;
          } else {
            ok = false;
          }
          break;
        case Op::Split:
          stack.push_back(Frame{inst.y, pos, 0, 0, false, true});
          pc = inst.x;
          break;
        case Op::Jmp: pc = inst.x; break;
        case Op::Repeat: {
          long k = 0;
          const long limit = inst.max < 0 ? n - pos : std::min<long>(inst.max, n - pos);
          if (inst.greedy) {
            while (k < limit && unit_matches(inst, inst.unit, static_cast<size_t>(pos + k))) ++k;
            if (k < inst.min) {
              ok = false;
              break;
            }
            if (k > inst.min) stack.push_back(Frame{pc + 1, 0, pos + inst.min, pos + k - 1, true, true});
            pos += k;
          } else {
            while (k < inst.min && k < limit && unit_matches(inst, inst.unit, static_cast<size_t>(pos + k))) ++k;
            if (k < inst.min) {
              ok = false;
              break;
            }
            long more = k;
            while (more < limit && unit_matches(inst, inst.unit, static_cast<size_t>(pos + more))) ++more;
            if (more > k) stack.push_back(Frame{pc + 1, 0, pos + k + 1, pos + more, true, false});
            pos += k;
          }
          ++pc;
          break;
        }
        case Op::Look: {
          const long saved = steps_;
          const bool found = run(pc + 1, pos) >= 0;
          steps_ = std::max(steps_, saved);
          if (found != inst.negated) {
            pc = inst.x;
          } else {
            ok = false;
          }
          break;
        }
        case Op::LookEnd:
        case Op::Match: return pos;
      }
      if (ok) continue;
      // Backtrack.
      while (true) {
        if (stack.empty()) return -1;
        Frame& f = stack.back();
        if (!f.repeat) {
          pc = f.pc;
          pos = f.pos;
          stack.pop_back();
          break;
        }
        if (f.lo > f.hi) {
          stack.pop_back();
          continue;
        }
        pc = f.pc;
        if (f.greedy) {
          pos = f.hi--;
        } else {
          pos = f.lo++;
        }
        break;
      }
    }
  }
};

SplitRegex::SplitRegex(const std::string& pattern) : pattern_(pattern) {
  Compiler(pattern, code_, classes_).compile();
}

std::vector<std::pair<size_t, size_t>> SplitRegex::find_all(std::string_view text) const {
  return SplitRegexMatcher(*this, text).find_all();
}

}  // namespace psy

#include "libpsy/text/jinja/lexer.h"

#include <algorithm>
#include <cstdlib>

#include "libpsy/core/error.h"
#include "libpsy/core/utf8.h"

namespace psy::jinja {

const char* token_type_name(TokenType t) {
  switch (t) {
    case TokenType::Text: return "text";
    case TokenType::VarBegin: return "'{{'";
    case TokenType::VarEnd: return "'}}'";
    case TokenType::BlockBegin: return "'{%'";
    case TokenType::BlockEnd: return "'%}'";
    case TokenType::Name: return "name";
    case TokenType::String: return "string";
    case TokenType::Integer: return "integer";
    case TokenType::Float: return "float";
    case TokenType::Operator: return "operator";
    case TokenType::End: return "end of template";
  }
  return "token";
}

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

class Lexer {
 public:
  Lexer(const std::string& src, const std::string& name) : s_(src), name_(name) {
    line_starts_.push_back(0);
    for (size_t i = 0; i < s_.size(); ++i)
      if (s_[i] == '\n') line_starts_.push_back(i + 1);
  }

  std::vector<Token> run() {
    size_t pos = 0;
    bool line_starting = true;  // the previous tag ended with a newline (or nothing came yet)
    while (pos < s_.size()) {
      size_t open = find_tag(pos);
      std::string text = s_.substr(pos, open - pos);
      if (open == s_.size()) {
        emit_text(text, pos);
        break;
      }
      const char kind = s_[open + 1];  // '{', '%' or '#'
      const char sign = open + 2 < s_.size() ? s_[open + 2] : '\0';
      if (sign == '-') {
        size_t keep = text.size();
        while (keep > 0 && is_space(text[keep - 1])) --keep;
        text.resize(keep);
      } else if (sign != '+' && kind != '{') {
        // lstrip_blocks: only spaces between the line's start and the tag.
        size_t line_start = text.rfind('\n');
        line_start = line_start == std::string::npos ? 0 : line_start + 1;
        if (line_start > 0 || line_starting) {
          bool blank = line_start < text.size();
          for (size_t i = line_start; i < text.size(); ++i)
            if (!is_space(text[i])) blank = false;
          if (blank) text.resize(line_start);
        }
      }
      emit_text(text, pos);
      size_t body = open + 2 + ((sign == '-' || sign == '+') ? 1 : 0);
      if (kind == '#') {
        pos = end_comment(open, body, line_starting);
      } else {
        pos = lex_tag(open, body, kind == '%', line_starting);
      }
    }
    Token end;
    end.type = TokenType::End;
    set_pos(end, s_.size());
    out_.push_back(end);
    return std::move(out_);
  }

 private:
  const std::string& s_;
  const std::string& name_;
  std::vector<size_t> line_starts_;
  std::vector<Token> out_;

  void set_pos(Token& t, size_t offset) const {
    auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
    size_t line = static_cast<size_t>(it - line_starts_.begin());
    t.line = static_cast<int>(line);
    t.column = static_cast<int>(offset - line_starts_[line - 1] + 1);
  }

  [[noreturn]] void fail(size_t offset, const std::string& what) const {
    Token t;
    set_pos(t, offset);
    ErrorLocation where;
    where.file = name_;
    where.line = t.line;
    where.column = t.column;
    throw Error(where, what);
  }

  size_t find_tag(size_t from) const {
    for (size_t i = from; i + 1 < s_.size(); ++i)
      if (s_[i] == '{' && (s_[i + 1] == '{' || s_[i + 1] == '%' || s_[i + 1] == '#')) return i;
    return s_.size();
  }

  void emit_text(const std::string& text, size_t offset) {
    if (text.empty()) return;
    Token t;
    t.type = TokenType::Text;
    t.text = text;
    set_pos(t, offset);
    out_.push_back(std::move(t));
  }

  // After a tag's closing marker: `-` strips all following whitespace; trim_blocks removes one
  // newline after block and comment tags unless the marker is `+`.
  size_t after_close(size_t close_end, char sign, bool block_like, bool& line_starting) {
    size_t pos = close_end;
    if (sign == '-') {
      while (pos < s_.size() && is_space(s_[pos])) ++pos;
    } else if (sign != '+' && block_like && pos < s_.size() && s_[pos] == '\n') {
      ++pos;
    }
    line_starting = pos > 0 && s_[pos - 1] == '\n';
    return pos;
  }

  size_t end_comment(size_t open, size_t body, bool& line_starting) {
    size_t close = s_.find("#}", body);
    if (close == std::string::npos) fail(open, "unterminated comment: '{#' without '#}'");
    char sign = close > body && (s_[close - 1] == '-' || s_[close - 1] == '+') ? s_[close - 1] : '\0';
    return after_close(close + 2, sign, true, line_starting);
  }

  size_t lex_tag(size_t open, size_t pos, bool block, bool& line_starting) {
    Token begin;
    begin.type = block ? TokenType::BlockBegin : TokenType::VarBegin;
    set_pos(begin, open);
    out_.push_back(begin);
    const char close_char = block ? '%' : '}';
    int depth = 0;  // brackets opened inside the tag ({{ {'a': 1} }} has a '}' that is not the end)
    while (true) {
      while (pos < s_.size() && is_space(s_[pos])) ++pos;
      if (pos >= s_.size()) fail(open, std::string("unterminated tag: '") + (block ? "{%" : "{{") + "' without '" +
                                           (block ? "%}" : "}}") + "'");
      const char c = s_[pos];
      // Closing marker, optionally with a whitespace-control sign.
      if (depth == 0 || block) {
        size_t p = pos;
        char sign = '\0';
        if ((c == '-' || c == '+') && p + 2 < s_.size() + 0 && s_[p + 1] == close_char && s_[p + 2] == '}') {
          sign = c;
          ++p;
        }
        if (p + 1 < s_.size() && s_[p] == close_char && s_[p + 1] == '}' && (depth == 0 || close_char == '%')) {
          Token end;
          end.type = block ? TokenType::BlockEnd : TokenType::VarEnd;
          set_pos(end, pos);
          out_.push_back(end);
          return after_close(p + 2, sign, block, line_starting);
        }
      }
      Token t;
      set_pos(t, pos);
      if (is_name_start(c)) {
        size_t e = pos;
        while (e < s_.size() && (is_name_start(s_[e]) || is_digit(s_[e]))) ++e;
        t.type = TokenType::Name;
        t.text = s_.substr(pos, e - pos);
        pos = e;
      } else if (is_digit(c)) {
        size_t e = pos;
        while (e < s_.size() && is_digit(s_[e])) ++e;
        bool is_float = false;
        if (e + 1 < s_.size() && s_[e] == '.' && is_digit(s_[e + 1])) {
          is_float = true;
          ++e;
          while (e < s_.size() && is_digit(s_[e])) ++e;
        }
        if (e < s_.size() && (s_[e] == 'e' || s_[e] == 'E')) {
          size_t x = e + 1;
          if (x < s_.size() && (s_[x] == '+' || s_[x] == '-')) ++x;
          if (x < s_.size() && is_digit(s_[x])) {
            is_float = true;
            e = x;
            while (e < s_.size() && is_digit(s_[e])) ++e;
          }
        }
        t.text = s_.substr(pos, e - pos);
        if (is_float) {
          t.type = TokenType::Float;
          t.number = std::strtod(t.text.c_str(), nullptr);
        } else {
          t.type = TokenType::Integer;
          if (t.text.size() > 18) fail(pos, "integer literal " + t.text + " is too large");
          t.integer = std::strtoll(t.text.c_str(), nullptr, 10);
        }
        pos = e;
      } else if (c == '\'' || c == '"') {
        t.type = TokenType::String;
        pos = lex_string(pos, t.text);
      } else {
        static const char* const two[] = {"//", "**", "==", "!=", "<=", ">="};
        std::string op;
        for (const char* o : two)
          if (s_.compare(pos, 2, o) == 0) op = o;
        if (op.empty()) {
          static const std::string one = "+-*/%~<>=()[]{},.:|";
          if (one.find(c) == std::string::npos) {
            std::string shown = c == '!' ? "'!' (use 'not' or '!=')" : "'" + std::string(1, c) + "'";
            fail(pos, "unexpected character " + shown + " in a tag");
          }
          op = std::string(1, c);
        }
        if (op == "(" || op == "[" || op == "{") ++depth;
        if ((op == ")" || op == "]" || op == "}") && depth > 0) --depth;
        t.type = TokenType::Operator;
        t.text = op;
        pos += op.size();
      }
      out_.push_back(std::move(t));
    }
  }

  size_t lex_string(size_t pos, std::string& out) {
    const char quote = s_[pos];
    size_t i = pos + 1;
    while (true) {
      if (i >= s_.size()) fail(pos, "unterminated string literal");
      char c = s_[i];
      if (c == quote) return i + 1;
      if (c != '\\') {
        out += c;
        ++i;
        continue;
      }
      if (i + 1 >= s_.size()) fail(pos, "unterminated string literal");
      char e = s_[i + 1];
      i += 2;
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case '0': out += '\0'; break;
        case 'a': out += '\a'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'v': out += '\v'; break;
        case '\\': out += '\\'; break;
        case '\'': out += '\''; break;
        case '"': out += '"'; break;
        case '\n': break;  // line continuation
        case 'x':
        case 'u':
        case 'U': {
          size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          if (i + n > s_.size()) fail(pos, "truncated \\" + std::string(1, e) + " escape in a string literal");
          uint32_t cp = 0;
          for (size_t k = 0; k < n; ++k) {
            char h = s_[i + k];
            uint32_t d;
            if (h >= '0' && h <= '9') d = static_cast<uint32_t>(h - '0');
            else if (h >= 'a' && h <= 'f') d = static_cast<uint32_t>(h - 'a' + 10);
            else if (h >= 'A' && h <= 'F') d = static_cast<uint32_t>(h - 'A' + 10);
            else fail(i, "bad hex digit in \\" + std::string(1, e) + " escape");
            cp = cp * 16 + d;
          }
          if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) fail(i, "escape names no Unicode scalar value");
          append_utf8(out, cp);
          i += n;
          break;
        }
        default:  // Python keeps unknown escapes as written
          out += '\\';
          out += e;
      }
    }
  }
};

}  // namespace

std::vector<Token> lex_template(const std::string& source, const std::string& source_name) {
  // Like Jinja: "\r\n" and "\r" become "\n" everywhere, and one trailing newline is dropped
  // (keep_trailing_newline is off).
  std::string normalised;
  normalised.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      normalised += '\n';
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      normalised += source[i];
    }
  }
  if (!normalised.empty() && normalised.back() == '\n') normalised.pop_back();
  return Lexer(normalised, source_name).run();
}

}  // namespace psy::jinja

// Jinja lexer with the environment transformers uses for chat templates: trim_blocks (the first
// newline after a block or comment tag is removed), lstrip_blocks (spaces and tabs before a block
// or comment tag at the start of a line are removed), and the whitespace-control signs `{%-`,
// `-%}`, `{{-`, `-}}`, `{#-`, `-#}` and `{%+`, `+%}`. Comments vanish. The result is a flat token
// stream: text, and the tokens of each tag between its begin and end markers.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace psy::jinja {

enum class TokenType {
  Text,        // template text (after whitespace control)
  VarBegin,    // {{
  VarEnd,      // }}
  BlockBegin,  // {%
  BlockEnd,    // %}
  Name,        // identifier or keyword
  String,      // string literal (text holds the unescaped value)
  Integer,
  Float,
  Operator,    // + - * / // % ** ~ == != < > <= >= = ( ) [ ] { } , . : |
  End,
};

struct Token {
  TokenType type = TokenType::End;
  std::string text;
  int64_t integer = 0;
  double number = 0;
  int line = 1, column = 1;  // 1-based position of the token in the source
};

// Throws psy::Error "SOURCE:LINE:COL: ..." for unterminated tags, comments and strings, and
// characters no expression may contain.
std::vector<Token> lex_template(const std::string& source, const std::string& source_name);

const char* token_type_name(TokenType t);

}  // namespace psy::jinja

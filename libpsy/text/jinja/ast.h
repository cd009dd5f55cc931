// The syntax tree of a parsed Jinja template: expressions and statements.
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "libpsy/text/jinja/value.h"

namespace psy::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  enum class Kind {
    Literal,      // value
    Name,         // name
    List,         // items; `negated` marks a tuple
    Dict,         // keys[i] : items[i]
    Attribute,    // a.name
    Subscript,    // a[b]
    Slice,        // a[b:c:d] (b, c, d may be null)
    Call,         // a(args..., kwargs...)
    Filter,       // a | name(args..., kwargs...)
    Test,         // a is [not] name(args...)
    Not,          // not a
    Negate,       // -a
    Binary,       // a op b: + - * / // % ** ~ == != < > <= >= in notin
    And,          // a and b
    Or,           // a or b
    Conditional,  // b if a else c (c may be null)
  };
  Kind kind = Kind::Literal;
  int line = 0, column = 0;
  Value value;       // Literal
  std::string name;  // Name, Attribute, Call (for messages), Filter, Test, Binary's operator
  bool negated = false;  // Test
  ExprPtr a, b, c;
  std::vector<ExprPtr> items;  // List, Dict values, Call/Filter/Test positional arguments
  std::vector<ExprPtr> keys;   // Dict keys
  std::vector<std::pair<std::string, ExprPtr>> kwargs;  // Call, Filter, Test
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct MacroParam {
  std::string name;
  ExprPtr default_value;  // null: required
};

struct Stmt {
  enum class Kind {
    Text,        // text
    Output,      // {{ expr }}
    If,          // conditions[i] -> bodies[i]; else_body
    For,         // for targets in expr [if cond]: body; else_body
    Set,         // set target(s) = expr; or set ns.attr = expr (attr non-empty)
    SetBlock,    // {% set name %}body{% endset %}
    Macro,       // {% macro name(params) %}body{% endmacro %}
    Generation,  // {% generation %}body{% endgeneration %} (transformers' tag; renders its body)
    Break,
    Continue,
  };
  Kind kind = Kind::Text;
  int line = 0, column = 0;
  std::string text;                  // Text; Macro's name; SetBlock's name
  ExprPtr expr;                      // Output, For (iterable), Set (value)
  ExprPtr cond;                      // For's inline filter
  std::vector<std::string> targets;  // For, Set (several = tuple unpacking)
  std::string attr;                  // Set ns.attr
  std::vector<ExprPtr> conditions;   // If
  std::vector<Body> bodies;          // If branches; For/SetBlock/Macro/Generation use bodies[0]
  Body else_body;                    // If, For
  std::vector<MacroParam> params;    // Macro
};

}  // namespace psy::jinja

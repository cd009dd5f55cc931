#include "libpsy/text/jinja/parser.h"

#include "libpsy/core/error.h"
#include "libpsy/text/jinja/builtins.h"

namespace psy::jinja {

const char* supported_statements() {
  return "if/elif/else, for (with else, inline if, tuple targets), set (incl. namespace attributes and set "
         "blocks), macro, generation, break, continue";
}

namespace {

class Parser {
 public:
  Parser(const std::vector<Token>& t, const std::string& name) : t_(t), name_(name) {}

  Body parse() {
    std::string end_tag;
    Body body = parse_body({}, end_tag);
    return body;
  }

 private:
  const std::vector<Token>& t_;
  const std::string& name_;
  size_t i_ = 0;
  int loop_depth_ = 0;

  const Token& peek(size_t ahead = 0) const {
    size_t k = i_ + ahead;
    return k < t_.size() ? t_[k] : t_.back();
  }
  const Token& next() {
    const Token& t = peek();
    if (i_ < t_.size() - 1) ++i_;
    return t;
  }

  [[noreturn]] void fail(const Token& at, const std::string& what) const {
    ErrorLocation where;
    where.file = name_;
    where.line = at.line;
    where.column = at.column;
    throw Error(where, what);
  }

  static std::string show(const Token& t) {
    if (t.type == TokenType::Name || t.type == TokenType::Operator) return "'" + t.text + "'";
    if (t.type == TokenType::String) return "string literal";
    if (t.type == TokenType::Integer || t.type == TokenType::Float) return "number " + t.text;
    return token_type_name(t.type);
  }

  bool is_op(const char* op, size_t ahead = 0) const {
    const Token& t = peek(ahead);
    return t.type == TokenType::Operator && t.text == op;
  }
  bool is_name(const char* n, size_t ahead = 0) const {
    const Token& t = peek(ahead);
    return t.type == TokenType::Name && t.text == n;
  }
  void expect_op(const char* op) {
    if (!is_op(op)) fail(peek(), std::string("expected '") + op + "', found " + show(peek()));
    next();
  }
  std::string expect_name(const char* what) {
    if (peek().type != TokenType::Name) fail(peek(), std::string("expected ") + what + ", found " + show(peek()));
    return next().text;
  }
  void expect_block_end() {
    if (peek().type != TokenType::BlockEnd) fail(peek(), "expected '%}', found " + show(peek()));
    next();
  }

  // Statements until a block tag whose name is in `ends` (consumed up to its name; the name is
  // returned in end_tag) or the end of the template (only when `ends` is empty).
  Body parse_body(const std::vector<std::string>& ends, std::string& end_tag) {
    Body body;
    while (true) {
      const Token& t = peek();
      if (t.type == TokenType::End) {
        if (!ends.empty()) {
          std::string want;
          for (const auto& e : ends) want += (want.empty() ? "" : " or ") + std::string("{% ") + e + " %}";
          fail(t, "unexpected end of template: missing " + want);
        }
        return body;
      }
      if (t.type == TokenType::Text) {
        auto s = std::make_unique<Stmt>();
        s->kind = Stmt::Kind::Text;
        s->text = t.text;
        s->line = t.line;
        s->column = t.column;
        body.push_back(std::move(s));
        next();
        continue;
      }
      if (t.type == TokenType::VarBegin) {
        next();
        auto s = std::make_unique<Stmt>();
        s->kind = Stmt::Kind::Output;
        s->line = t.line;
        s->column = t.column;
        s->expr = parse_expression();
        if (peek().type != TokenType::VarEnd) fail(peek(), "expected '}}', found " + show(peek()));
        next();
        body.push_back(std::move(s));
        continue;
      }
      if (t.type != TokenType::BlockBegin) fail(t, "unexpected " + show(t));
      const Token& tag = peek(1);
      if (tag.type != TokenType::Name) fail(tag, "expected a statement name after '{%', found " + show(tag));
      for (const auto& e : ends) {
        if (tag.text == e) {
          next();
          next();
          end_tag = e;
          return body;
        }
      }
      next();
      body.push_back(parse_statement());
    }
  }

  StmtPtr parse_statement() {
    const Token& tag = next();
    auto s = std::make_unique<Stmt>();
    s->line = tag.line;
    s->column = tag.column;
    const std::string& n = tag.text;
    if (n == "if") {
      s->kind = Stmt::Kind::If;
      s->conditions.push_back(parse_expression());
      expect_block_end();
      while (true) {
        std::string end;
        s->bodies.push_back(parse_body({"elif", "else", "endif"}, end));
        if (end == "elif") {
          s->conditions.push_back(parse_expression());
          expect_block_end();
          continue;
        }
        if (end == "else") {
          expect_block_end();
          std::string end2;
          s->else_body = parse_body({"endif"}, end2);
        }
        expect_block_end();
        break;
      }
      return s;
    }
    if (n == "for") {
      s->kind = Stmt::Kind::For;
      const bool paren = is_op("(");
      if (paren) next();
      s->targets.push_back(expect_name("a loop variable"));
      while (is_op(",")) {
        next();
        s->targets.push_back(expect_name("a loop variable"));
      }
      if (paren) expect_op(")");
      if (!is_name("in")) fail(peek(), "expected 'in' in the for statement, found " + show(peek()));
      next();
      s->expr = parse_or_expression();  // no conditional: `if` here is the loop filter
      if (is_name("if")) {
        next();
        s->cond = parse_or_expression();
      }
      if (is_name("recursive"))
        fail(peek(), std::string("unsupported Jinja construct: recursive for loops (supported statements: ") +
                         supported_statements() + ")");
      expect_block_end();
      std::string end;
      ++loop_depth_;
      s->bodies.push_back(parse_body({"else", "endfor"}, end));
      --loop_depth_;
      if (end == "else") {
        expect_block_end();
        s->else_body = parse_body({"endfor"}, end);
      }
      expect_block_end();
      return s;
    }
    if (n == "set") {
      std::string first = expect_name("a variable name");
      if (is_op(".")) {
        next();
        s->kind = Stmt::Kind::Set;
        s->targets.push_back(first);
        s->attr = expect_name("an attribute name");
        expect_op("=");
        s->expr = parse_tuple_or_expression();
        expect_block_end();
        return s;
      }
      s->targets.push_back(first);
      while (is_op(",")) {
        next();
        s->targets.push_back(expect_name("a variable name"));
      }
      if (peek().type == TokenType::BlockEnd && s->targets.size() == 1) {
        next();
        s->kind = Stmt::Kind::SetBlock;
        s->text = first;
        std::string end;
        s->bodies.push_back(parse_body({"endset"}, end));
        expect_block_end();
        return s;
      }
      if (is_op("|")) fail(peek(), "unsupported Jinja construct: filtered set blocks ({% set x | filter %})");
      s->kind = Stmt::Kind::Set;
      expect_op("=");
      s->expr = parse_tuple_or_expression();
      expect_block_end();
      return s;
    }
    if (n == "macro") {
      s->kind = Stmt::Kind::Macro;
      s->text = expect_name("a macro name");
      expect_op("(");
      while (!is_op(")")) {
        MacroParam p;
        p.name = expect_name("a parameter name");
        if (is_op("=")) {
          next();
          p.default_value = parse_expression();
        }
        s->params.push_back(std::move(p));
        if (!is_op(",")) break;
        next();
      }
      expect_op(")");
      expect_block_end();
      std::string end;
      const int saved = loop_depth_;
      loop_depth_ = 0;
      s->bodies.push_back(parse_body({"endmacro"}, end));
      loop_depth_ = saved;
      if (peek().type == TokenType::Name) next();  // {% endmacro name %}
      expect_block_end();
      return s;
    }
    if (n == "generation") {
      s->kind = Stmt::Kind::Generation;
      expect_block_end();
      std::string end;
      s->bodies.push_back(parse_body({"endgeneration"}, end));
      expect_block_end();
      return s;
    }
    if (n == "break" || n == "continue") {
      if (loop_depth_ == 0) fail(tag, "'" + n + "' outside a for loop");
      s->kind = n == "break" ? Stmt::Kind::Break : Stmt::Kind::Continue;
      expect_block_end();
      return s;
    }
    static const char* const closers[] = {"elif", "else", "endif", "endfor", "endset", "endmacro", "endgeneration"};
    for (const char* c : closers)
      if (n == c) fail(tag, "'{% " + n + " %}' without a matching opening statement");
    fail(tag, "unsupported Jinja construct '{% " + n + " %}' (supported statements: " + supported_statements() +
                  ")");
  }

  // --- expressions -------------------------------------------------------------------------

  ExprPtr make(Expr::Kind k, const Token& at) {
    auto e = std::make_unique<Expr>();
    e->kind = k;
    e->line = at.line;
    e->column = at.column;
    return e;
  }

  // `a, b` at the top of a set statement builds a list (Python's tuple).
  ExprPtr parse_tuple_or_expression() {
    const Token& at = peek();
    ExprPtr first = parse_expression();
    if (!is_op(",")) return first;
    auto list = make(Expr::Kind::List, at);
    list->negated = true;
    list->items.push_back(std::move(first));
    while (is_op(",")) {
      next();
      list->items.push_back(parse_expression());
    }
    return list;
  }

  ExprPtr parse_expression() {
    const Token& at = peek();
    ExprPtr e = parse_or_expression();
    while (is_name("if")) {
      next();
      auto c = make(Expr::Kind::Conditional, at);
      c->a = parse_or_expression();
      c->b = std::move(e);
      if (is_name("else")) {
        next();
        c->c = parse_expression();
      }
      e = std::move(c);
    }
    return e;
  }

  ExprPtr parse_or_expression() {
    ExprPtr e = parse_and();
    while (is_name("or")) {
      const Token& at = next();
      auto o = make(Expr::Kind::Or, at);
      o->a = std::move(e);
      o->b = parse_and();
      e = std::move(o);
    }
    return e;
  }

  ExprPtr parse_and() {
    ExprPtr e = parse_not();
    while (is_name("and")) {
      const Token& at = next();
      auto o = make(Expr::Kind::And, at);
      o->a = std::move(e);
      o->b = parse_not();
      e = std::move(o);
    }
    return e;
  }

  ExprPtr parse_not() {
    if (is_name("not")) {
      const Token& at = next();
      auto n = make(Expr::Kind::Not, at);
      n->a = parse_not();
      return n;
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
    ExprPtr e = parse_math1();
    Expr* last_compare = nullptr;
    while (true) {
      const Token& at = peek();
      std::string op;
      if (at.type == TokenType::Operator &&
          (at.text == "==" || at.text == "!=" || at.text == "<" || at.text == ">" || at.text == "<=" ||
           at.text == ">=")) {
        op = at.text;
        next();
      } else if (is_name("in")) {
        op = "in";
        next();
      } else if (is_name("not") && is_name("in", 1)) {
        op = "notin";
        next();
        next();
      } else {
        return e;
      }
      // Python chains comparisons: a < b < c is (a < b) and (b < c).
      ExprPtr right = parse_math1();
      auto b = make(Expr::Kind::Binary, at);
      b->name = op;
      b->b = std::move(right);
      if (last_compare) {
        b->a = clone(*last_compare->b);
        Expr* raw = b.get();
        auto both = make(Expr::Kind::And, at);
        both->a = std::move(e);
        both->b = std::move(b);
        e = std::move(both);
        last_compare = raw;
      } else {
        b->a = std::move(e);
        last_compare = b.get();
        e = std::move(b);
      }
    }
  }

  // A deep copy (the middle operand of a chained comparison is used twice).
  static ExprPtr clone(const Expr& x) {
    auto c = std::make_unique<Expr>();
    c->kind = x.kind;
    c->line = x.line;
    c->column = x.column;
    c->value = x.value;
    c->name = x.name;
    c->negated = x.negated;
    if (x.a) c->a = clone(*x.a);
    if (x.b) c->b = clone(*x.b);
    if (x.c) c->c = clone(*x.c);
    for (const auto& i : x.items) c->items.push_back(i ? clone(*i) : nullptr);
    for (const auto& k : x.keys) c->keys.push_back(k ? clone(*k) : nullptr);
    for (const auto& kv : x.kwargs) c->kwargs.emplace_back(kv.first, clone(*kv.second));
    return c;
  }

  ExprPtr binary_loop(ExprPtr (Parser::*sub)(), std::initializer_list<const char*> ops) {
    ExprPtr e = (this->*sub)();
    while (true) {
      const Token& at = peek();
      bool matched = false;
      if (at.type == TokenType::Operator)
        for (const char* op : ops)
          if (at.text == op) matched = true;
      if (!matched) return e;
      next();
      auto b = make(Expr::Kind::Binary, at);
      b->name = at.text;
      b->a = std::move(e);
      b->b = (this->*sub)();
      e = std::move(b);
    }
  }

  ExprPtr parse_math1() { return binary_loop(&Parser::parse_concat, {"+", "-"}); }
  ExprPtr parse_concat() { return binary_loop(&Parser::parse_math2, {"~"}); }
  ExprPtr parse_math2() { return binary_loop(&Parser::parse_pow, {"*", "/", "//", "%"}); }
  ExprPtr parse_pow() { return binary_loop(&Parser::parse_unary_filtered, {"**"}); }
  ExprPtr parse_unary_filtered() { return parse_unary(true); }

  ExprPtr parse_unary(bool with_filter) {
    const Token& at = peek();
    ExprPtr e;
    if (is_op("-")) {
      next();
      e = make(Expr::Kind::Negate, at);
      e->a = parse_unary(false);
    } else if (is_op("+")) {
      next();
      e = parse_unary(false);
    } else {
      e = parse_primary();
    }
    e = parse_postfix(std::move(e));
    if (with_filter) e = parse_filters_and_tests(std::move(e));
    return e;
  }

  ExprPtr parse_primary() {
    const Token& t = peek();
    switch (t.type) {
      case TokenType::Name: {
        next();
        if (t.text == "true" || t.text == "True") return literal(t, Value(true));
        if (t.text == "false" || t.text == "False") return literal(t, Value(false));
        if (t.text == "none" || t.text == "None") return literal(t, Value::none());
        static const char* const reserved[] = {"and", "or", "not", "in", "is", "if", "else"};
        for (const char* r : reserved)
          if (t.text == r) fail(t, "expected an expression, found '" + t.text + "'");
        auto e = make(Expr::Kind::Name, t);
        e->name = t.text;
        return e;
      }
      case TokenType::String: {
        next();
        std::string s = t.text;
        while (peek().type == TokenType::String) s += next().text;  // adjacent literals concatenate
        return literal(t, Value(s));
      }
      case TokenType::Integer: next(); return literal(t, Value(t.integer));
      case TokenType::Float: next(); return literal(t, Value(t.number));
      case TokenType::Operator:
        if (t.text == "(") {
          next();
          if (is_op(")")) {
            next();
            auto empty = make(Expr::Kind::List, t);
            empty->negated = true;
            return empty;
          }
          ExprPtr e = parse_expression();
          if (is_op(",")) {
            auto list = make(Expr::Kind::List, t);
            list->negated = true;
            list->items.push_back(std::move(e));
            while (is_op(",")) {
              next();
              if (is_op(")")) break;
              list->items.push_back(parse_expression());
            }
            e = std::move(list);
          }
          expect_op(")");
          return e;
        }
        if (t.text == "[") {
          next();
          auto list = make(Expr::Kind::List, t);
          while (!is_op("]")) {
            list->items.push_back(parse_expression());
            if (!is_op(",")) break;
            next();
          }
          expect_op("]");
          return list;
        }
        if (t.text == "{") {
          next();
          auto dict = make(Expr::Kind::Dict, t);
          while (!is_op("}")) {
            dict->keys.push_back(parse_expression());
            expect_op(":");
            dict->items.push_back(parse_expression());
            if (!is_op(",")) break;
            next();
          }
          expect_op("}");
          return dict;
        }
        break;
      default: break;
    }
    fail(t, "expected an expression, found " + show(t));
  }

  ExprPtr literal(const Token& at, Value v) {
    auto e = make(Expr::Kind::Literal, at);
    e->value = std::move(v);
    return e;
  }

  ExprPtr parse_postfix(ExprPtr e) {
    while (true) {
      const Token& at = peek();
      if (is_op(".")) {
        next();
        const Token& n = next();
        if (n.type == TokenType::Name) {
          auto a = make(Expr::Kind::Attribute, at);
          a->name = n.text;
          a->a = std::move(e);
          e = std::move(a);
        } else if (n.type == TokenType::Integer) {
          auto s = make(Expr::Kind::Subscript, at);
          s->a = std::move(e);
          s->b = literal(n, Value(n.integer));
          e = std::move(s);
        } else {
          fail(n, "expected an attribute name after '.', found " + show(n));
        }
      } else if (is_op("[")) {
        next();
        ExprPtr parts[3];
        int colons = 0;
        while (true) {
          if (is_op(":")) {
            if (++colons > 2) fail(peek(), "a slice takes at most two ':'");
            next();
            continue;
          }
          if (is_op("]")) break;
          if (parts[colons]) fail(peek(), "expected ':' or ']' in a subscript, found " + show(peek()));
          parts[colons] = parse_expression();
        }
        next();
        if (colons == 0) {
          if (!parts[0]) fail(at, "empty subscript '[]'");
          auto s = make(Expr::Kind::Subscript, at);
          s->a = std::move(e);
          s->b = std::move(parts[0]);
          e = std::move(s);
        } else {
          auto s = make(Expr::Kind::Slice, at);
          s->items.push_back(std::move(e));
          s->a = std::move(parts[0]);
          s->b = std::move(parts[1]);
          s->c = std::move(parts[2]);
          e = std::move(s);
        }
      } else if (is_op("(")) {
        auto c = make(Expr::Kind::Call, at);
        c->line = e->line;
        c->column = e->column;
        c->a = std::move(e);
        parse_call_args(*c);
        e = std::move(c);
      } else {
        return e;
      }
    }
  }

  void parse_call_args(Expr& call) {
    expect_op("(");
    while (!is_op(")")) {
      if (is_op("*") || is_op("**")) fail(peek(), "unsupported Jinja construct: *args / **kwargs in a call");
      if (peek().type == TokenType::Name && is_op("=", 1)) {
        std::string key = next().text;
        next();
        call.kwargs.emplace_back(key, parse_expression());
      } else {
        if (!call.kwargs.empty()) fail(peek(), "positional argument after a keyword argument");
        call.items.push_back(parse_expression());
      }
      if (!is_op(",")) break;
      next();
    }
    expect_op(")");
  }

  ExprPtr parse_filters_and_tests(ExprPtr e) {
    while (true) {
      const Token& at = peek();
      if (is_op("|")) {
        next();
        const Token& n = peek();
        std::string fname = expect_name("a filter name");
        if (!is_known_filter(fname))
          fail(n, "unsupported Jinja filter '" + fname + "' (supported filters: " + known_filters() + ")");
        auto f = make(Expr::Kind::Filter, n);
        f->name = fname;
        f->a = std::move(e);
        if (is_op("(")) parse_call_args(*f);
        e = std::move(f);
      } else if (is_name("is")) {
        next();
        auto t = make(Expr::Kind::Test, at);
        if (is_name("not")) {
          next();
          t->negated = true;
        }
        const Token& n = peek();
        std::string tname = expect_name("a test name");
        if (tname == "none" || tname == "true" || tname == "false") {
          // `is none` etc. are tests, even though the words are literals elsewhere
        }
        if (!is_known_test(tname))
          fail(n, "unsupported Jinja test '" + tname + "' (supported tests: " + known_tests() + ")");
        t->name = tname;
        t->a = std::move(e);
        if (is_op("(")) {
          parse_call_args(*t);
        } else {
          const Token& arg = peek();
          const bool starts_arg =
              arg.type == TokenType::String || arg.type == TokenType::Integer || arg.type == TokenType::Float ||
              (arg.type == TokenType::Name && arg.text != "else" && arg.text != "or" && arg.text != "and" &&
               arg.text != "if" && arg.text != "in" && arg.text != "not" && arg.text != "is") ||
              (arg.type == TokenType::Operator && (arg.text == "[" || arg.text == "{"));
          if (starts_arg) t->items.push_back(parse_postfix(parse_primary()));
        }
        e = std::move(t);
      } else if (is_op("(")) {
        auto c = make(Expr::Kind::Call, at);
        c->a = std::move(e);
        parse_call_args(*c);
        e = std::move(c);
      } else {
        return e;
      }
    }
  }
};

}  // namespace

Body parse_template(const std::vector<Token>& tokens, const std::string& source_name) {
  return Parser(tokens, source_name).parse();
}

}  // namespace psy::jinja

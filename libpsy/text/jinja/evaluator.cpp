#include "libpsy/text/jinja/evaluator.h"

#include <cmath>
#include <ctime>

#include "libpsy/core/error.h"
#include "libpsy/core/utf8.h"
#include "libpsy/text/jinja/builtins.h"

namespace psy::jinja {

namespace {

// A render error at a node; turned into psy::Error with the source position.
struct RenderError {
  std::string message;
  int line = 0, column = 0;
};

[[noreturn]] void fail_at(int line, int column, const std::string& m) { throw RenderError{m, line, column}; }
[[noreturn]] void fail_at(const Expr& e, const std::string& m) { fail_at(e.line, e.column, m); }

struct Scope {
  ValueDict vars;
  Scope* parent = nullptr;

  const Value* lookup(const std::string& name) const {
    for (const Scope* s = this; s; s = s->parent)
      if (const Value* v = s->vars.find(name)) return v;
    return nullptr;
  }
};

enum class Flow { Normal, Break, Continue };

std::string undefined_message(const Value& v) {
  const std::string& n = v.as_string();
  if (n.empty()) return "value is undefined";
  if (n.find(' ') != std::string::npos) return n;  // already a sentence
  return "'" + n + "' is undefined";
}

// Python-style index normalisation; returns false when out of range.
bool normalise_index(int64_t i, size_t size, size_t& out) {
  int64_t n = static_cast<int64_t>(size);
  if (i < 0) i += n;
  if (i < 0 || i >= n) return false;
  out = static_cast<size_t>(i);
  return true;
}

// Python slice indices for a sequence of `size`.
std::vector<size_t> slice_indices(size_t size, const Value& start_v, const Value& stop_v, const Value& step_v,
                                  const Expr& at) {
  const int64_t n = static_cast<int64_t>(size);
  int64_t step = 1;
  if (!step_v.is_none() && !step_v.is_undefined()) {
    if (!step_v.is_int()) fail_at(at, "slice step must be an integer");
    step = step_v.as_int();
  }
  if (step == 0) fail_at(at, "slice step cannot be zero");
  auto bound = [&](const Value& v, int64_t dflt) -> int64_t {
    if (v.is_none() || v.is_undefined()) return dflt;
    if (!v.is_int()) fail_at(at, "slice indices must be integers or none");
    int64_t i = v.as_int();
    if (i < 0) {
      i += n;
      if (i < 0) i = step < 0 ? -1 : 0;
    } else if (i >= n) {
      i = step < 0 ? n - 1 : n;
    }
    return i;
  };
  int64_t start = bound(start_v, step < 0 ? n - 1 : 0);
  int64_t stop = bound(stop_v, step < 0 ? -1 : n);
  std::vector<size_t> out;
  if (step > 0)
    for (int64_t i = start; i < stop; i += step) out.push_back(static_cast<size_t>(i));
  else
    for (int64_t i = start; i > stop; i += step) out.push_back(static_cast<size_t>(i));
  return out;
}

class Evaluator {
 public:
  Evaluator(const std::string& name, const RenderLimits& limits) : name_(name), limits_(limits) {}

  std::string run(const Body& body, const ValueDict& variables) {
    globals_.vars = make_globals();
    Scope root;
    root.vars = variables;
    root.parent = &globals_;
    root_ = &root;
    std::string out;
    // Namespaces are the only mutable values, so the only way to build a reference cycle
    // ({% set ns.self = ns %}); emptying them after the render frees such cycles.
    struct ClearNamespaces {
      std::vector<Value>& created;
      ~ClearNamespaces() {
        for (auto& ns : created) ns.as_dict().items.clear();
      }
    } clear{namespaces_};
    try {
      exec_body(body, root, out);
    } catch (const RenderError& e) {
      ErrorLocation where;
      where.file = name_;
      where.line = e.line;
      where.column = e.column;
      throw Error(where, e.message);
    }
    return out;
  }

 private:
  const std::string& name_;
  RenderLimits limits_;
  Scope globals_;
  Scope* root_ = nullptr;
  std::vector<Value> namespaces_;  // created by namespace() during this render
  size_t steps_ = 0;
  int depth_ = 0;

  void step(int line, int column) {
    if (++steps_ > limits_.max_steps)
      fail_at(line, column, "template ran more than " + std::to_string(limits_.max_steps) + " steps");
  }

  ValueDict make_globals() {
    ValueDict g;
    g.set("raise_exception", Value::function("raise_exception", [](const CallArgs& a) -> Value {
            std::string m = a.positional.empty() ? "" : a.positional[0].str();
            throw BuiltinError{"the template raised an exception: " + m};
          }));
    g.set("strftime_now", Value::function("strftime_now", [](const CallArgs& a) -> Value {
            if (a.positional.empty() || !a.positional[0].is_string())
              throw BuiltinError{"strftime_now needs a format string"};
            std::time_t now = std::time(nullptr);
            std::tm local{};
            localtime_r(&now, &local);
            char buf[512];
            size_t n = std::strftime(buf, sizeof buf, a.positional[0].as_string().c_str(), &local);
            return Value(std::string(buf, n));
          }));
    g.set("namespace", Value::function("namespace", [this](const CallArgs& a) -> Value {
            ValueDict d;
            for (const auto& p : a.positional) {
              if (!p.is_dict()) throw BuiltinError{"namespace() takes a mapping or keyword arguments"};
              for (const auto& kv : p.as_dict().items) d.set(kv.first, kv.second);
            }
            for (const auto& kv : a.keyword) d.set(kv.first, kv.second);
            for (const auto& kv : d.items)
              if (!kv.first.empty() && kv.first[0] == '_')
                throw BuiltinError{"chat templates cannot store underscore-prefixed attributes on a namespace"};
            Value ns = Value::namespace_of(std::move(d));
            namespaces_.push_back(ns);
            return ns;
          }));
    g.set("dict", Value::function("dict", [](const CallArgs& a) -> Value {
            ValueDict d;
            for (const auto& p : a.positional) {
              if (!p.is_dict()) throw BuiltinError{"dict() takes a mapping or keyword arguments"};
              for (const auto& kv : p.as_dict().items) d.set(kv.first, kv.second);
            }
            for (const auto& kv : a.keyword) d.set(kv.first, kv.second);
            return Value(std::move(d));
          }));
    const size_t max_list = limits_.max_list_size;
    g.set("range", Value::function("range", [max_list](const CallArgs& a) -> Value {
            int64_t start = 0, stop = 0, stepv = 1;
            for (const auto& p : a.positional)
              if (!p.is_int()) throw BuiltinError{"range() takes integers"};
            if (a.positional.size() == 1) stop = a.positional[0].as_int();
            else if (a.positional.size() >= 2) {
              start = a.positional[0].as_int();
              stop = a.positional[1].as_int();
              if (a.positional.size() == 3) stepv = a.positional[2].as_int();
            } else {
              throw BuiltinError{"range() takes 1 to 3 integers"};
            }
            if (stepv == 0) throw BuiltinError{"range() step must not be zero"};
            ValueList out;
            for (int64_t i = start; stepv > 0 ? i < stop : i > stop; i += stepv) {
              if (out.size() >= max_list) throw BuiltinError{"range() too large"};
              out.emplace_back(i);
            }
            return Value(out);
          }));
    return g;
  }

  // --- statements ---

  Flow exec_body(const Body& body, Scope& scope, std::string& out) {
    for (const auto& s : body) {
      Flow f = exec(*s, scope, out);
      if (f != Flow::Normal) return f;
    }
    return Flow::Normal;
  }

  void emit(std::string& out, const std::string& text, int line, int column) {
    if (out.size() + text.size() > limits_.max_output_bytes)
      fail_at(line, column, "template output exceeds " + std::to_string(limits_.max_output_bytes) + " bytes");
    out += text;
  }

  Flow exec(const Stmt& s, Scope& scope, std::string& out) {
    step(s.line, s.column);
    switch (s.kind) {
      case Stmt::Kind::Text: emit(out, s.text, s.line, s.column); return Flow::Normal;
      case Stmt::Kind::Output: {
        Value v = eval(*s.expr, scope);
        emit(out, v.str(), s.line, s.column);
        return Flow::Normal;
      }
      case Stmt::Kind::If: {
        for (size_t i = 0; i < s.conditions.size(); ++i)
          if (eval(*s.conditions[i], scope).truthy()) return exec_body(s.bodies[i], scope, out);
        return exec_body(s.else_body, scope, out);
      }
      case Stmt::Kind::For: return exec_for(s, scope, out);
      case Stmt::Kind::Set: {
        Value v = eval(*s.expr, scope);
        if (!s.attr.empty()) {
          const Value* ns = scope.lookup(s.targets[0]);
          if (!ns || !ns->is_namespace())
            fail_at(s.line, s.column, "cannot assign attribute '" + s.attr + "' on '" + s.targets[0] +
                                          "': it is not a namespace()");
          if (!s.attr.empty() && s.attr[0] == '_')
            fail_at(s.line, s.column, "chat templates cannot store underscore-prefixed attributes on a namespace");
          Value target = *ns;  // shares the namespace's dict
          target.as_dict().set(s.attr, std::move(v));
          return Flow::Normal;
        }
        assign(s.targets, v, scope, s.line, s.column);
        return Flow::Normal;
      }
      case Stmt::Kind::SetBlock: {
        std::string captured;
        exec_body(s.bodies[0], scope, captured);
        scope.vars.set(s.text, Value(captured));
        return Flow::Normal;
      }
      case Stmt::Kind::Macro: {
        const Stmt* macro = &s;
        scope.vars.set(s.text, Value::function(s.text, [this, macro](const CallArgs& a) -> Value {
                         return call_macro(*macro, a);
                       }));
        return Flow::Normal;
      }
      case Stmt::Kind::Generation: return exec_body(s.bodies[0], scope, out);
      case Stmt::Kind::Break: return Flow::Break;
      case Stmt::Kind::Continue: return Flow::Continue;
    }
    return Flow::Normal;
  }

  void assign(const std::vector<std::string>& targets, const Value& v, Scope& scope, int line, int column) {
    if (targets.size() == 1) {
      scope.vars.set(targets[0], v);
      return;
    }
    ValueList items = unpackable(v, line, column);
    if (items.size() != targets.size())
      fail_at(line, column, "cannot unpack " + std::to_string(items.size()) + " values into " +
                                std::to_string(targets.size()) + " names");
    for (size_t i = 0; i < targets.size(); ++i) scope.vars.set(targets[i], items[i]);
  }

  ValueList unpackable(const Value& v, int line, int column) {
    if (v.is_list()) return v.as_list();
    try {
      return apply_filter("list", v, {}).as_list();
    } catch (const BuiltinError& e) {
      fail_at(line, column, e.message);
    }
  }

  Value call_macro(const Stmt& m, const CallArgs& a) {
    if (depth_ >= limits_.max_call_depth)
      throw BuiltinError{"macro calls nested deeper than " + std::to_string(limits_.max_call_depth)};
    if (a.positional.size() > m.params.size())
      throw BuiltinError{"macro '" + m.text + "' takes " + std::to_string(m.params.size()) + " arguments, got " +
                         std::to_string(a.positional.size())};
    Scope local;
    local.parent = root_;
    for (size_t i = 0; i < m.params.size(); ++i) {
      const MacroParam& p = m.params[i];
      const Value* kw = nullptr;
      for (const auto& kv : a.keyword)
        if (kv.first == p.name) kw = &kv.second;
      if (i < a.positional.size()) local.vars.set(p.name, a.positional[i]);
      else if (kw) local.vars.set(p.name, *kw);
      else if (p.default_value) local.vars.set(p.name, eval(*p.default_value, local));
      else local.vars.set(p.name, Value::undefined(p.name));
    }
    for (const auto& kv : a.keyword) {
      bool known = false;
      for (const auto& p : m.params)
        if (p.name == kv.first) known = true;
      if (!known) throw BuiltinError{"macro '" + m.text + "' takes no keyword argument '" + kv.first + "'"};
    }
    std::string out;
    ++depth_;
    exec_body(m.bodies[0], local, out);
    --depth_;
    return Value(out);
  }

  Flow exec_for(const Stmt& s, Scope& scope, std::string& out) {
    Value iterable = eval(*s.expr, scope);
    ValueList items;
    if (iterable.is_list()) {
      items = iterable.as_list();
    } else if (iterable.is_dict() || iterable.is_string() || iterable.is_undefined()) {
      items = unpackable(iterable, s.line, s.column);
    } else {
      fail_at(*s.expr, "'" + iterable.type_name() + "' object is not iterable");
    }
    if (s.cond) {
      ValueList kept;
      for (const auto& item : items) {
        Scope probe;
        probe.parent = &scope;
        assign(s.targets, item, probe, s.line, s.column);
        if (eval(*s.cond, probe).truthy()) kept.push_back(item);
      }
      items = std::move(kept);
    }
    if (items.empty()) return exec_body(s.else_body, scope, out);
    const size_t n = items.size();
    for (size_t i = 0; i < n; ++i) {
      Scope iter;
      iter.parent = &scope;
      ValueDict loop;
      loop.set("index", Value(static_cast<int64_t>(i + 1)));
      loop.set("index0", Value(static_cast<int64_t>(i)));
      loop.set("revindex", Value(static_cast<int64_t>(n - i)));
      loop.set("revindex0", Value(static_cast<int64_t>(n - i - 1)));
      loop.set("first", Value(i == 0));
      loop.set("last", Value(i + 1 == n));
      loop.set("length", Value(static_cast<int64_t>(n)));
      loop.set("depth", Value(1));
      loop.set("depth0", Value(0));
      loop.set("previtem", i > 0 ? items[i - 1] : Value::undefined("there is no previous item"));
      loop.set("nextitem", i + 1 < n ? items[i + 1] : Value::undefined("there is no next item"));
      iter.vars.set("loop", Value(std::move(loop)));
      assign(s.targets, items[i], iter, s.line, s.column);
      if (exec_body(s.bodies[0], iter, out) == Flow::Break) break;
    }
    return Flow::Normal;
  }

  // --- expressions ---

  Value eval(const Expr& e, Scope& scope) {
    step(e.line, e.column);
    switch (e.kind) {
      case Expr::Kind::Literal: return e.value;
      case Expr::Kind::Name: {
        const Value* v = scope.lookup(e.name);
        return v ? *v : Value::undefined(e.name);
      }
      case Expr::Kind::List: {
        ValueList l;
        for (const auto& i : e.items) l.push_back(eval(*i, scope));
        return e.negated ? Value::tuple(std::move(l)) : Value(std::move(l));
      }
      case Expr::Kind::Dict: {
        ValueDict d;
        for (size_t i = 0; i < e.keys.size(); ++i) {
          Value k = eval(*e.keys[i], scope);
          if (!k.is_string()) fail_at(*e.keys[i], "dict keys must be strings here, got " + k.type_name());
          d.set(k.as_string(), eval(*e.items[i], scope));
        }
        return Value(std::move(d));
      }
      case Expr::Kind::Attribute: return attribute(eval(*e.a, scope), e.name, e);
      case Expr::Kind::Subscript: return subscript(eval(*e.a, scope), eval(*e.b, scope), e);
      case Expr::Kind::Slice: {
        Value obj = eval(*e.items[0], scope);
        Value a = e.a ? eval(*e.a, scope) : Value::none();
        Value b = e.b ? eval(*e.b, scope) : Value::none();
        Value c = e.c ? eval(*e.c, scope) : Value::none();
        if (obj.is_undefined()) fail_at(e, undefined_message(obj));
        if (obj.is_list()) {
          ValueList out;
          for (size_t i : slice_indices(obj.as_list().size(), a, b, c, e)) out.push_back(obj.as_list()[i]);
          return Value(std::move(out));
        }
        if (obj.is_string()) {
          std::vector<char32_t> cps = decode_utf8(obj.as_string());
          std::string out;
          for (size_t i : slice_indices(cps.size(), a, b, c, e)) append_utf8(out, cps[i]);
          return Value(std::move(out));
        }
        fail_at(e, "'" + obj.type_name() + "' object cannot be sliced");
      }
      case Expr::Kind::Call: return call(e, scope);
      case Expr::Kind::Filter: {
        Value in = eval(*e.a, scope);
        CallArgs args = eval_args(e, scope);
        if (e.name == "tojson" && in.is_undefined())
          fail_at(e, "tojson: " + undefined_message(in) + " (Object of type Undefined is not JSON serializable)");
        try {
          return apply_filter(e.name, in, args);
        } catch (const BuiltinError& err) {
          fail_at(e, err.message);
        }
      }
      case Expr::Kind::Test: {
        Value in = eval(*e.a, scope);
        CallArgs args = eval_args(e, scope);
        try {
          return Value(apply_test(e.name, in, args) != e.negated);
        } catch (const BuiltinError& err) {
          fail_at(e, err.message);
        }
      }
      case Expr::Kind::Not: return Value(!eval(*e.a, scope).truthy());
      case Expr::Kind::Negate: {
        Value v = eval(*e.a, scope);
        if (v.is_int() || v.is_bool()) return Value(checked(e, 0, v.as_int(), '-'));
        if (v.is_float()) return Value(-v.as_number());
        fail_at(e, "bad operand type for unary -: '" + v.type_name() + "'");
      }
      case Expr::Kind::And: {
        Value a = eval(*e.a, scope);
        return a.truthy() ? eval(*e.b, scope) : a;
      }
      case Expr::Kind::Or: {
        Value a = eval(*e.a, scope);
        return a.truthy() ? a : eval(*e.b, scope);
      }
      case Expr::Kind::Conditional: {
        if (eval(*e.a, scope).truthy()) return eval(*e.b, scope);
        return e.c ? eval(*e.c, scope) : Value::undefined("the conditional expression has no else branch");
      }
      case Expr::Kind::Binary: return binary(e, eval(*e.a, scope), eval(*e.b, scope));
    }
    fail_at(e, "unknown expression");
  }

  CallArgs eval_args(const Expr& e, Scope& scope) {
    CallArgs a;
    for (const auto& i : e.items) a.positional.push_back(eval(*i, scope));
    for (const auto& kv : e.kwargs) a.keyword.emplace_back(kv.first, eval(*kv.second, scope));
    return a;
  }

  Value attribute(const Value& obj, const std::string& name, const Expr& at) {
    if (obj.is_undefined()) fail_at(at, undefined_message(obj));
    if (obj.is_dict() || obj.is_namespace()) {
      if (const Value* v = obj.as_dict().find(name)) return *v;
      return Value::undefined("'" + std::string(obj.is_dict() ? "dict object" : "namespace") +
                              "' has no attribute '" + name + "'");
    }
    return Value::undefined("'" + obj.type_name() + " object' has no attribute '" + name + "'");
  }

  Value subscript(const Value& obj, const Value& key, const Expr& at) {
    if (obj.is_undefined()) fail_at(at, undefined_message(obj));
    if (obj.is_dict() || obj.is_namespace()) {
      if (key.is_string()) {
        if (const Value* v = obj.as_dict().find(key.as_string())) return *v;
        return Value::undefined("'dict object' has no attribute '" + key.as_string() + "'");
      }
      return Value::undefined("'dict object' has no attribute " + key.repr());
    }
    if (obj.is_list() && (key.is_int() || key.is_bool())) {
      size_t i;
      if (normalise_index(key.as_int(), obj.as_list().size(), i)) return obj.as_list()[i];
      return Value::undefined("'list object' has no element " + key.repr());
    }
    if (obj.is_string() && (key.is_int() || key.is_bool())) {
      std::vector<char32_t> cps = decode_utf8(obj.as_string());
      size_t i;
      if (!normalise_index(key.as_int(), cps.size(), i))
        return Value::undefined("'str object' has no element " + key.repr());
      std::string out;
      append_utf8(out, cps[i]);
      return Value(out);
    }
    if (key.is_string()) return attribute(obj, key.as_string(), at);
    return Value::undefined("'" + obj.type_name() + " object' has no element " + key.repr());
  }

  Value call(const Expr& e, Scope& scope) {
    if (e.a->kind == Expr::Kind::Attribute) {
      Value obj = eval(*e.a->a, scope);
      if (has_method(obj, e.a->name)) {
        CallArgs args = eval_args(e, scope);
        try {
          return call_method(obj, e.a->name, args);
        } catch (const BuiltinError& err) {
          fail_at(e, err.message);
        }
      }
      Value fn = attribute(obj, e.a->name, *e.a);
      return call_value(fn, e, scope);
    }
    Value fn = eval(*e.a, scope);
    return call_value(fn, e, scope);
  }

  Value call_value(const Value& fn, const Expr& e, Scope& scope) {
    if (!fn.is_function()) {
      if (fn.is_undefined()) fail_at(e, undefined_message(fn) + " (called as a function)");
      fail_at(e, "'" + fn.type_name() + "' object is not callable");
    }
    CallArgs args = eval_args(e, scope);
    try {
      return fn.as_function()(args);
    } catch (const BuiltinError& err) {
      fail_at(e, err.message);
    }
  }

  // Python integers do not overflow; psy's are 64-bit and say so instead of wrapping.
  static int64_t checked(const Expr& e, int64_t x, int64_t y, char op) {
    int64_t r = 0;
    bool overflow = op == '+' ? __builtin_add_overflow(x, y, &r)
                    : op == '-' ? __builtin_sub_overflow(x, y, &r)
                                : __builtin_mul_overflow(x, y, &r);
    if (overflow) fail_at(e, "integer overflow (psy's template integers are 64-bit)");
    return r;
  }

  Value binary(const Expr& e, const Value& a, const Value& b) {
    const std::string& op = e.name;
    auto type_error = [&]() {
      fail_at(e, "unsupported operand type(s) for " + (op == "notin" ? std::string("not in") : op) + ": '" +
                     a.type_name() + "' and '" + b.type_name() + "'");
    };
    if (op == "~") return Value(a.str() + b.str());
    if (op == "==") return Value(equal(a, b));
    if (op == "!=") return Value(!equal(a, b));
    if (op == "in" || op == "notin") {
      bool found = false;
      if (b.is_string()) {
        if (!a.is_string()) fail_at(e, "'in <string>' requires string as left operand, not " + a.type_name());
        found = b.as_string().find(a.as_string()) != std::string::npos;
      } else if (b.is_list()) {
        for (const auto& item : b.as_list())
          if (equal(item, a)) found = true;
      } else if (b.is_dict() || b.is_namespace()) {
        found = a.is_string() && b.as_dict().find(a.as_string()) != nullptr;
      } else if (!b.is_undefined()) {
        fail_at(e, "argument of type '" + b.type_name() + "' is not iterable");
      }
      return Value(op == "in" ? found : !found);
    }
    if (a.is_undefined()) fail_at(e, undefined_message(a));
    if (b.is_undefined()) fail_at(e, undefined_message(b));
    if (op == "<" || op == ">" || op == "<=" || op == ">=") {
      int cmp;
      if (a.is_number() && b.is_number()) {
        double x = a.as_number(), y = b.as_number();
        if ((a.is_int() || a.is_bool()) && (b.is_int() || b.is_bool()))
          cmp = a.as_int() < b.as_int() ? -1 : a.as_int() > b.as_int() ? 1 : 0;
        else
          cmp = x < y ? -1 : x > y ? 1 : 0;
      } else if (a.is_string() && b.is_string()) {
        cmp = a.as_string().compare(b.as_string());
      } else {
        fail_at(e, "'" + op + "' not supported between instances of '" + a.type_name() + "' and '" +
                       b.type_name() + "'");
      }
      if (op == "<") return Value(cmp < 0);
      if (op == ">") return Value(cmp > 0);
      if (op == "<=") return Value(cmp <= 0);
      return Value(cmp >= 0);
    }
    const bool ints = (a.is_int() || a.is_bool()) && (b.is_int() || b.is_bool());
    if (op == "+") {
      if (a.is_string() && b.is_string()) return Value(a.as_string() + b.as_string());
      if (a.is_list() && b.is_list()) {
        ValueList l = a.as_list();
        l.insert(l.end(), b.as_list().begin(), b.as_list().end());
        return Value(std::move(l));
      }
      if (ints) return Value(checked(e, a.as_int(), b.as_int(), '+'));
      if (a.is_number() && b.is_number()) return Value(a.as_number() + b.as_number());
      if (a.is_string() || b.is_string())
        fail_at(e, "can only concatenate str (not \"" + (a.is_string() ? b : a).type_name() + "\") to str");
      type_error();
    }
    if (op == "*") {
      const Value* seq = a.is_string() || a.is_list() ? &a : b.is_string() || b.is_list() ? &b : nullptr;
      const Value* count = seq == &a ? &b : &a;
      if (seq && (count->is_int() || count->is_bool())) {
        int64_t n = std::max<int64_t>(0, count->as_int());
        const size_t unit = seq->is_string() ? seq->as_string().size() : seq->as_list().size();
        if (unit > 0 && static_cast<uint64_t>(n) > limits_.max_list_size / unit)
          fail_at(e, "repetition result too large");
        if (seq->is_string()) {
          std::string out;
          for (int64_t i = 0; i < n; ++i) out += seq->as_string();
          return Value(std::move(out));
        }
        ValueList out;
        for (int64_t i = 0; i < n; ++i) out.insert(out.end(), seq->as_list().begin(), seq->as_list().end());
        return Value(std::move(out));
      }
      if (ints) return Value(checked(e, a.as_int(), b.as_int(), '*'));
      if (a.is_number() && b.is_number()) return Value(a.as_number() * b.as_number());
      type_error();
    }
    if (!(a.is_number() && b.is_number())) type_error();
    if (op == "-") {
      if (ints) return Value(checked(e, a.as_int(), b.as_int(), '-'));
      return Value(a.as_number() - b.as_number());
    }
    if (op == "/") {
      if (b.as_number() == 0) fail_at(e, "division by zero");
      return Value(a.as_number() / b.as_number());
    }
    if (op == "//" || op == "%") {
      if (b.as_number() == 0) fail_at(e, op == "%" ? "modulo by zero" : "integer division by zero");
      if (ints) {
        int64_t x = a.as_int(), y = b.as_int();
        if (y == -1 && x == INT64_MIN) fail_at(e, "integer overflow");
        int64_t q = x / y, r = x % y;
        if (r != 0 && ((r < 0) != (y < 0))) {
          --q;
          r += y;
        }
        return op == "//" ? Value(q) : Value(r);
      }
      double x = a.as_number(), y = b.as_number();
      double q = std::floor(x / y);
      return op == "//" ? Value(q) : Value(x - q * y);
    }
    if (op == "**") {
      if (ints && b.as_int() >= 0 && b.as_int() < 64) {
        int64_t r = 1;
        for (int64_t i = 0; i < b.as_int(); ++i) r = checked(e, r, a.as_int(), '*');
        return Value(r);
      }
      return Value(std::pow(a.as_number(), b.as_number()));
    }
    type_error();
    return Value();
  }
};

}  // namespace

std::string render_body(const Body& body, const ValueDict& variables, const std::string& source_name,
                        const RenderLimits& limits) {
  return Evaluator(source_name, limits).run(body, variables);
}

}  // namespace psy::jinja

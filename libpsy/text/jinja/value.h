// Values of the Jinja engine, with Python's semantics where chat templates rely on them:
// truthiness, str() and repr() of scalars, lists and dicts, equality, ordering, `in`.
// Lists, dicts and namespaces are shared by reference (as Python objects are); strings, numbers,
// booleans, none and undefined are plain values. Dicts keep insertion order.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace psy::jinja {

class Value;
using ValueList = std::vector<Value>;
// Insertion-ordered string-keyed map (the dicts chat templates see come from JSON).
struct ValueDict {
  std::vector<std::pair<std::string, Value>> items;
  const Value* find(const std::string& key) const;
  Value* find(const std::string& key);
  void set(const std::string& key, Value v);
};

// Positional and keyword arguments of a call.
struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
};
using NativeFunction = std::function<Value(const CallArgs&)>;

class Value {
 public:
  enum class Kind { Undefined, None, Bool, Int, Float, String, List, Dict, Namespace, Function };

  Value() = default;  // undefined
  static Value undefined(std::string name = "") { Value v; v.str_ = std::move(name); return v; }
  static Value none() { Value v; v.kind_ = Kind::None; return v; }
  Value(bool b) : kind_(Kind::Bool), int_(b) {}
  Value(int i) : kind_(Kind::Int), int_(i) {}
  Value(int64_t i) : kind_(Kind::Int), int_(i) {}
  Value(double d) : kind_(Kind::Float), float_(d) {}
  Value(std::string s) : kind_(Kind::String), str_(std::move(s)) {}
  Value(const char* s) : kind_(Kind::String), str_(s) {}
  Value(ValueList l) : kind_(Kind::List), list_(std::make_shared<ValueList>(std::move(l))) {}
  Value(ValueDict d) : kind_(Kind::Dict), dict_(std::make_shared<ValueDict>(std::move(d))) {}
  // A Python tuple: a list that prints as (a, b).
  static Value tuple(ValueList l) {
    Value v(std::move(l));
    v.tuple_ = true;
    return v;
  }
  bool is_tuple() const { return tuple_; }
  static Value namespace_of(ValueDict d) {
    Value v(std::move(d));
    v.kind_ = Kind::Namespace;
    return v;
  }
  static Value function(std::string name, NativeFunction f) {
    Value v;
    v.kind_ = Kind::Function;
    v.str_ = std::move(name);
    v.fn_ = std::make_shared<NativeFunction>(std::move(f));
    return v;
  }

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::Undefined; }
  bool is_none() const { return kind_ == Kind::None; }
  bool is_bool() const { return kind_ == Kind::Bool; }
  bool is_int() const { return kind_ == Kind::Int; }
  bool is_float() const { return kind_ == Kind::Float; }
  bool is_number() const { return kind_ == Kind::Int || kind_ == Kind::Float || kind_ == Kind::Bool; }
  bool is_string() const { return kind_ == Kind::String; }
  bool is_list() const { return kind_ == Kind::List; }
  bool is_dict() const { return kind_ == Kind::Dict; }
  bool is_namespace() const { return kind_ == Kind::Namespace; }
  bool is_function() const { return kind_ == Kind::Function; }

  bool as_bool() const { return int_ != 0; }
  int64_t as_int() const { return int_; }
  double as_number() const { return kind_ == Kind::Float ? float_ : static_cast<double>(int_); }
  const std::string& as_string() const { return str_; }  // also the undefined's name, function's name
  const ValueList& as_list() const { return *list_; }
  ValueList& as_list() { return *list_; }
  const ValueDict& as_dict() const { return *dict_; }  // dicts and namespaces
  ValueDict& as_dict() { return *dict_; }
  const NativeFunction& as_function() const { return *fn_; }

  // Python's bool(x); undefined is false.
  bool truthy() const;
  // Python's str(x) (what {{ x }} prints); undefined prints as "".
  std::string str() const;
  // Python's repr(x) (how values print inside lists and dicts).
  std::string repr() const;
  // Python type name for messages ("str", "int", "list", "dict", "NoneType", "undefined").
  std::string type_name() const;

 private:
  Kind kind_ = Kind::Undefined;
  bool tuple_ = false;
  int64_t int_ = 0;
  double float_ = 0;
  std::string str_;
  std::shared_ptr<ValueList> list_;
  std::shared_ptr<ValueDict> dict_;
  std::shared_ptr<NativeFunction> fn_;
};

// Python's ==.
bool equal(const Value& a, const Value& b);
// Python's float repr: shortest round-trip digits ("0.1", "1e+20", "1.0", "inf", "nan").
std::string python_float_repr(double d);

}  // namespace psy::jinja

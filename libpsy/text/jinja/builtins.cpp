#include "libpsy/text/jinja/builtins.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cctype>
#include <cstring>

#include "libpsy/core/utf8.h"

namespace psy::jinja {

namespace {

const char* const kFilters[] = {"abs",   "capitalize", "count",      "d",         "default", "dictsort", "first",
                                "float", "int",        "items",      "join",      "last",    "length",   "list",
                                "lower", "map",        "reject",     "rejectattr", "replace", "round",   "safe",
                                "select", "selectattr", "sort",      "string",    "title",   "tojson",   "trim",
                                "unique", "upper"};
const char* const kTests[] = {"boolean", "callable", "defined", "divisibleby", "eq",      "equalto", "even",
                              "false",   "float",    "ge",      "gt",          "in",      "integer", "iterable",
                              "le",      "lower",    "lt",      "mapping",     "ne",      "none",    "number",
                              "odd",     "sameas",   "sequence", "string",     "true",    "undefined", "upper"};

[[noreturn]] void fail(const std::string& m) { throw BuiltinError{m}; }

const Value* kwarg(const CallArgs& a, const char* name) {
  for (const auto& kv : a.keyword)
    if (kv.first == name) return &kv.second;
  return nullptr;
}

// Argument `index` (positional) or `name` (keyword), or null.
const Value* arg(const CallArgs& a, size_t index, const char* name) {
  if (index < a.positional.size()) return &a.positional[index];
  return kwarg(a, name);
}

void check_arity(const CallArgs& a, size_t max_positional, std::initializer_list<const char*> keywords,
                 const std::string& what) {
  if (a.positional.size() > max_positional)
    fail(what + " takes at most " + std::to_string(max_positional) + " positional argument(s), got " +
         std::to_string(a.positional.size()));
  for (const auto& kv : a.keyword) {
    bool ok = false;
    for (const char* k : keywords)
      if (kv.first == k) ok = true;
    if (!ok) fail(what + " got an unexpected keyword argument '" + kv.first + "'");
  }
}

const std::string& need_string(const Value& v, const std::string& what) {
  if (!v.is_string()) fail(what + " expects a string, got " + v.type_name());
  return v.as_string();
}

// --- strings (code points, Python's whitespace) ---------------------------------------------

std::string strip_chars(const std::string& s, const Value* chars, bool left, bool right) {
  std::vector<char32_t> cps = decode_utf8(s);
  std::vector<char32_t> set;
  const bool whitespace = !chars || chars->is_none() || chars->is_undefined();
  if (!whitespace) set = decode_utf8(need_string(*chars, "strip"));
  auto drop = [&](char32_t c) {
    return whitespace ? is_python_space(c) : std::find(set.begin(), set.end(), c) != set.end();
  };
  size_t b = 0, e = cps.size();
  if (left)
    while (b < e && drop(cps[b])) ++b;
  if (right)
    while (e > b && drop(cps[e - 1])) --e;
  return encode_utf8(std::vector<char32_t>(cps.begin() + static_cast<long>(b), cps.begin() + static_cast<long>(e)));
}

ValueList split_string(const std::string& s, const Value* sep, const Value* maxsplit_v, bool from_right) {
  int64_t maxsplit = -1;
  if (maxsplit_v && !maxsplit_v->is_none()) {
    if (!maxsplit_v->is_int()) fail("split: maxsplit must be an integer");
    maxsplit = maxsplit_v->as_int();
  }
  ValueList out;
  if (!sep || sep->is_none()) {
    // Runs of whitespace; leading/trailing whitespace ignored.
    std::vector<char32_t> cps = decode_utf8(s);
    std::vector<std::pair<size_t, size_t>> words;
    size_t i = 0;
    while (i < cps.size()) {
      while (i < cps.size() && is_python_space(cps[i])) ++i;
      if (i >= cps.size()) break;
      size_t b = i;
      while (i < cps.size() && !is_python_space(cps[i])) ++i;
      words.emplace_back(b, i);
    }
    auto piece = [&](size_t b, size_t e) {
      return Value(encode_utf8(std::vector<char32_t>(cps.begin() + static_cast<long>(b), cps.begin() + static_cast<long>(e))));
    };
    if (maxsplit < 0 || static_cast<size_t>(maxsplit) >= words.size()) {
      for (auto& w : words) out.push_back(piece(w.first, w.second));
      return out;
    }
    const size_t n = static_cast<size_t>(maxsplit);
    if (!from_right) {
      for (size_t k = 0; k < n; ++k) out.push_back(piece(words[k].first, words[k].second));
      // Remainder: from the next word to the end, trailing whitespace stripped.
      size_t e = cps.size();
      while (e > 0 && is_python_space(cps[e - 1])) --e;
      out.push_back(piece(words[n].first, e));
    } else {
      size_t b = 0;
      while (b < cps.size() && is_python_space(cps[b])) ++b;
      const size_t first_kept = words.size() - n;
      out.push_back(piece(b, words[first_kept - 1].second));
      for (size_t k = first_kept; k < words.size(); ++k) out.push_back(piece(words[k].first, words[k].second));
    }
    return out;
  }
  const std::string& d = need_string(*sep, "split");
  if (d.empty()) fail("split: empty separator");
  std::vector<std::string> parts;
  if (!from_right) {
    size_t pos = 0;
    int64_t done = 0;
    while (maxsplit < 0 || done < maxsplit) {
      size_t f = s.find(d, pos);
      if (f == std::string::npos) break;
      parts.push_back(s.substr(pos, f - pos));
      pos = f + d.size();
      ++done;
    }
    parts.push_back(s.substr(pos));
  } else {
    size_t end = s.size();
    int64_t done = 0;
    std::vector<std::string> rev;
    while (maxsplit < 0 || done < maxsplit) {
      if (end < d.size()) break;
      size_t f = s.rfind(d, end - d.size());
      if (f == std::string::npos) break;
      rev.push_back(s.substr(f + d.size(), end - f - d.size()));
      end = f;
      ++done;
    }
    rev.push_back(s.substr(0, end));
    parts.assign(rev.rbegin(), rev.rend());
  }
  for (auto& p : parts) out.emplace_back(std::move(p));
  return out;
}

std::string replace_all(const std::string& s, const std::string& from, const std::string& to, int64_t count) {
  if (from.empty()) {
    // Python inserts `to` between code points (and at both ends).
    std::vector<char32_t> cps = decode_utf8(s);
    std::string out;
    int64_t done = 0;
    for (size_t i = 0; i <= cps.size(); ++i) {
      if (count < 0 || done < count) {
        out += to;
        ++done;
      }
      if (i < cps.size()) append_utf8(out, cps[i]);
    }
    return out;
  }
  std::string out;
  size_t pos = 0;
  int64_t done = 0;
  while (count < 0 || done < count) {
    size_t f = s.find(from, pos);
    if (f == std::string::npos) break;
    out.append(s, pos, f - pos);
    out += to;
    pos = f + from.size();
    ++done;
  }
  out.append(s, pos, std::string::npos);
  return out;
}

std::string ascii_case(std::string s, bool upper) {
  for (char& c : s) {
    if (upper && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (!upper && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

bool is_ascii_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

std::string capitalize(const std::string& s) {
  std::string out = ascii_case(s, false);
  if (!out.empty()) out[0] = ascii_case(out.substr(0, 1), true)[0];
  return out;
}

std::string title(const std::string& s) {
  std::string out = s;
  bool prev_letter = false;
  for (char& c : out) {
    const bool letter = is_ascii_letter(c);
    if (letter) c = ascii_case(std::string(1, c), !prev_letter)[0];
    prev_letter = letter || (static_cast<unsigned char>(c) >= 0x80);
  }
  return out;
}

bool starts_or_ends(const std::string& s, const Value& affix, bool start) {
  auto one = [&](const std::string& a) {
    if (a.size() > s.size()) return false;
    return start ? s.compare(0, a.size(), a) == 0 : s.compare(s.size() - a.size(), a.size(), a) == 0;
  };
  if (affix.is_list()) {
    for (const auto& v : affix.as_list())
      if (one(need_string(v, start ? "startswith" : "endswith"))) return true;
    return false;
  }
  return one(need_string(affix, start ? "startswith" : "endswith"));
}

// --- collections ---------------------------------------------------------------------------

ValueList iterate(const Value& v, const std::string& what) {
  if (v.is_list()) return v.as_list();
  if (v.is_dict()) {
    ValueList keys;
    for (const auto& kv : v.as_dict().items) keys.emplace_back(kv.first);
    return keys;
  }
  if (v.is_string()) {
    ValueList chars;
    for (char32_t c : decode_utf8(v.as_string())) {
      std::string s;
      append_utf8(s, c);
      chars.emplace_back(std::move(s));
    }
    return chars;
  }
  if (v.is_undefined()) return {};
  fail(what + ": '" + v.type_name() + "' object is not iterable");
}

// Python's < for the values sort and dictsort compare.
bool less_than(const Value& a, const Value& b, bool case_sensitive) {
  if (a.is_number() && b.is_number()) return a.as_number() < b.as_number();
  if (a.is_string() && b.is_string()) {
    if (case_sensitive) return a.as_string() < b.as_string();
    return ascii_case(a.as_string(), false) < ascii_case(b.as_string(), false);
  }
  fail("'<' not supported between instances of '" + a.type_name() + "' and '" + b.type_name() + "'");
}

Value attribute_of(const Value& v, const std::string& path) {
  Value cur = v;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t dot = path.find('.', pos);
    std::string part = path.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
    if (cur.is_dict() || cur.is_namespace()) {
      const Value* f = cur.as_dict().find(part);
      cur = f ? *f : Value::undefined(part);
    } else if (cur.is_list() && !part.empty() && std::all_of(part.begin(), part.end(), ::isdigit)) {
      size_t i = std::stoul(part);
      cur = i < cur.as_list().size() ? cur.as_list()[i] : Value::undefined(part);
    } else {
      cur = Value::undefined(part);
    }
    if (dot == std::string::npos) break;
    pos = dot + 1;
  }
  return cur;
}

CallArgs rest_args(const CallArgs& a, size_t from) {
  CallArgs r;
  for (size_t i = from; i < a.positional.size(); ++i) r.positional.push_back(a.positional[i]);
  r.keyword = a.keyword;
  return r;
}

ValueList select_items(const Value& input, const CallArgs& args, bool by_attribute, bool keep, const char* name) {
  ValueList out;
  std::string attr;
  size_t test_at = 0;
  if (by_attribute) {
    if (args.positional.empty()) fail(std::string(name) + " needs an attribute name");
    attr = need_string(args.positional[0], name);
    test_at = 1;
  }
  std::string test;
  if (args.positional.size() > test_at) test = need_string(args.positional[test_at], name);
  CallArgs targs = rest_args(args, test_at + 1);
  targs.keyword.clear();
  for (const auto& item : iterate(input, name)) {
    Value probe = by_attribute ? attribute_of(item, attr) : item;
    bool pass = test.empty() ? probe.truthy() : apply_test(test, probe, targs);
    if (pass == keep) out.push_back(item);
  }
  return out;
}

// --- JSON ----------------------------------------------------------------------------------

void json_string(std::string& out, const std::string& s, bool ensure_ascii) {
  out += '"';
  for (char32_t c : decode_utf8(s)) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default: {
        char buf[16];
        if (c < 0x20 || (ensure_ascii && c >= 0x7f)) {
          if (c >= 0x10000) {
            char32_t v = c - 0x10000;
            std::snprintf(buf, sizeof buf, "\\u%04x\\u%04x", static_cast<unsigned>(0xD800 + (v >> 10)),
                          static_cast<unsigned>(0xDC00 + (v & 0x3FF)));
          } else {
            std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          }
          out += buf;
        } else {
          append_utf8(out, c);
        }
      }
    }
  }
  out += '"';
}

struct JsonOptions {
  bool ensure_ascii;
  int indent;
  std::string item_sep, key_sep;
  bool sort_keys;
};

void json_value(std::string& out, const Value& v, const JsonOptions& o, int level) {
  auto newline = [&](int lvl) {
    out += '\n';
    out.append(static_cast<size_t>(o.indent) * static_cast<size_t>(lvl), ' ');
  };
  switch (v.kind()) {
    case Value::Kind::None: out += "null"; return;
    case Value::Kind::Bool: out += v.as_bool() ? "true" : "false"; return;
    case Value::Kind::Int: out += std::to_string(v.as_int()); return;
    case Value::Kind::Float: {
      double d = v.as_number();
      if (std::isnan(d)) out += "NaN";
      else if (std::isinf(d)) out += d < 0 ? "-Infinity" : "Infinity";
      else out += python_float_repr(d);
      return;
    }
    case Value::Kind::String: json_string(out, v.as_string(), o.ensure_ascii); return;
    case Value::Kind::List: {
      const auto& l = v.as_list();
      if (l.empty()) {
        out += "[]";
        return;
      }
      out += '[';
      for (size_t i = 0; i < l.size(); ++i) {
        if (i) out += o.item_sep;
        if (o.indent >= 0) newline(level + 1);
        json_value(out, l[i], o, level + 1);
      }
      if (o.indent >= 0) newline(level);
      out += ']';
      return;
    }
    case Value::Kind::Dict: {
      std::vector<const std::pair<std::string, Value>*> items;
      for (const auto& kv : v.as_dict().items) items.push_back(&kv);
      if (items.empty()) {
        out += "{}";
        return;
      }
      if (o.sort_keys)
        std::stable_sort(items.begin(), items.end(), [](auto* a, auto* b) { return a->first < b->first; });
      out += '{';
      for (size_t i = 0; i < items.size(); ++i) {
        if (i) out += o.item_sep;
        if (o.indent >= 0) newline(level + 1);
        json_string(out, items[i]->first, o.ensure_ascii);
        out += o.key_sep;
        json_value(out, items[i]->second, o, level + 1);
      }
      if (o.indent >= 0) newline(level);
      out += '}';
      return;
    }
    default: fail("tojson: Object of type " + v.type_name() + " is not JSON serializable");
  }
}

}  // namespace

bool is_known_filter(const std::string& name) {
  for (const char* f : kFilters)
    if (name == f) return true;
  return false;
}

bool is_known_test(const std::string& name) {
  for (const char* t : kTests)
    if (name == t) return true;
  return name == "==" || name == "!=";
}

const char* known_filters() {
  return "abs, capitalize, count, d, default, dictsort, first, float, int, items, join, last, length, list, "
         "lower, map, reject, rejectattr, replace, round, safe, select, selectattr, sort, string, title, tojson, "
         "trim, unique, upper";
}

const char* known_tests() {
  return "boolean, callable, defined, divisibleby, eq, equalto, even, false, float, ge, gt, in, integer, "
         "iterable, le, lower, lt, mapping, ne, none, number, odd, sameas, sequence, string, true, undefined, "
         "upper";
}

std::string python_json_dumps(const Value& v, bool ensure_ascii, int indent, const std::string& item_sep,
                              const std::string& key_sep, bool sort_keys) {
  std::string out;
  json_value(out, v, JsonOptions{ensure_ascii, indent, item_sep, key_sep, sort_keys}, 0);
  return out;
}

Value apply_filter(const std::string& name, const Value& in, const CallArgs& a) {
  if (name == "trim") {
    check_arity(a, 1, {"chars"}, "trim");
    return Value(strip_chars(in.str(), arg(a, 0, "chars"), true, true));
  }
  if (name == "length" || name == "count") {
    check_arity(a, 0, {}, name);
    if (in.is_string()) return Value(static_cast<int64_t>(utf8_length(in.as_string())));
    if (in.is_list()) return Value(static_cast<int64_t>(in.as_list().size()));
    if (in.is_dict()) return Value(static_cast<int64_t>(in.as_dict().items.size()));
    if (in.is_undefined()) return Value(0);
    fail("object of type '" + in.type_name() + "' has no len()");
  }
  if (name == "tojson") {
    check_arity(a, 4, {"ensure_ascii", "indent", "separators", "sort_keys"}, "tojson");
    const Value* ea = arg(a, 0, "ensure_ascii");
    const Value* ind = arg(a, 1, "indent");
    const Value* sep = arg(a, 2, "separators");
    const Value* sk = arg(a, 3, "sort_keys");
    int indent = -1;
    if (ind && !ind->is_none()) {
      if (!ind->is_int() || ind->as_int() < 0 || ind->as_int() > 64) fail("tojson: indent must be an integer 0..64");
      indent = static_cast<int>(ind->as_int());
    }
    std::string item_sep = indent >= 0 ? "," : ", ", key_sep = ": ";
    if (sep && !sep->is_none()) {
      if (!sep->is_list() || sep->as_list().size() != 2) fail("tojson: separators must be a pair of strings");
      item_sep = need_string(sep->as_list()[0], "tojson separators");
      key_sep = need_string(sep->as_list()[1], "tojson separators");
    }
    return Value(python_json_dumps(in, ea && ea->truthy(), indent, item_sep, key_sep, sk && sk->truthy()));
  }
  if (name == "string") return Value(in.str());
  if (name == "safe") return in;
  if (name == "lower") return Value(ascii_case(in.str(), false));
  if (name == "upper") return Value(ascii_case(in.str(), true));
  if (name == "capitalize") return Value(capitalize(in.str()));
  if (name == "title") return Value(title(in.str()));
  if (name == "first" || name == "last") {
    ValueList items = iterate(in, name);
    if (items.empty()) return Value::undefined("no first item");
    return name == "first" ? items.front() : items.back();
  }
  if (name == "join") {
    check_arity(a, 2, {"d", "attribute"}, "join");
    const Value* d = arg(a, 0, "d");
    const Value* attr = arg(a, 1, "attribute");
    std::string sep = d ? d->str() : "";
    std::string out;
    bool first = true;
    for (const auto& item : iterate(in, "join")) {
      if (!first) out += sep;
      first = false;
      out += attr && !attr->is_none() ? attribute_of(item, attr->str()).str() : item.str();
    }
    return Value(out);
  }
  if (name == "default" || name == "d") {
    check_arity(a, 2, {"default_value", "boolean"}, name);
    const Value* dv = arg(a, 0, "default_value");
    const Value* boolean = arg(a, 1, "boolean");
    const bool use_default = in.is_undefined() || (boolean && boolean->truthy() && !in.truthy());
    if (use_default) return dv ? *dv : Value("");
    return in;
  }
  if (name == "replace") {
    check_arity(a, 3, {"old", "new", "count"}, "replace");
    const Value* from = arg(a, 0, "old");
    const Value* to = arg(a, 1, "new");
    const Value* count = arg(a, 2, "count");
    if (!from || !to) fail("replace needs the old and new strings");
    return Value(replace_all(in.str(), from->str(), to->str(), count && count->is_int() ? count->as_int() : -1));
  }
  if (name == "items") {
    if (in.is_undefined()) return Value(ValueList{});
    if (!in.is_dict()) fail("items: expected a mapping, got " + in.type_name());
    ValueList out;
    for (const auto& kv : in.as_dict().items) out.push_back(Value::tuple(ValueList{Value(kv.first), kv.second}));
    return Value(out);
  }
  if (name == "dictsort") {
    check_arity(a, 3, {"case_sensitive", "by", "reverse"}, "dictsort");
    if (!in.is_dict()) fail("dictsort: expected a mapping, got " + in.type_name());
    const Value* cs = arg(a, 0, "case_sensitive");
    const Value* by = arg(a, 1, "by");
    const Value* rev = arg(a, 2, "reverse");
    const bool by_value = by && by->str() == "value";
    ValueList out;
    for (const auto& kv : in.as_dict().items) out.push_back(Value::tuple(ValueList{Value(kv.first), kv.second}));
    std::stable_sort(out.begin(), out.end(), [&](const Value& x, const Value& y) {
      const size_t k = by_value ? 1 : 0;
      return less_than(x.as_list()[k], y.as_list()[k], cs && cs->truthy());
    });
    if (rev && rev->truthy()) std::reverse(out.begin(), out.end());
    return Value(out);
  }
  if (name == "list") return Value(iterate(in, "list"));
  if (name == "unique") {
    ValueList out;
    for (const auto& item : iterate(in, "unique")) {
      bool seen = false;
      for (const auto& o : out)
        if (equal(o, item)) seen = true;
      if (!seen) out.push_back(item);
    }
    return Value(out);
  }
  if (name == "sort") {
    check_arity(a, 3, {"reverse", "case_sensitive", "attribute"}, "sort");
    const Value* rev = arg(a, 0, "reverse");
    const Value* cs = arg(a, 1, "case_sensitive");
    const Value* attr = arg(a, 2, "attribute");
    ValueList out = iterate(in, "sort");
    std::stable_sort(out.begin(), out.end(), [&](const Value& x, const Value& y) {
      if (attr && !attr->is_none())
        return less_than(attribute_of(x, attr->str()), attribute_of(y, attr->str()), cs && cs->truthy());
      return less_than(x, y, cs && cs->truthy());
    });
    if (rev && rev->truthy()) std::reverse(out.begin(), out.end());
    return Value(out);
  }
  if (name == "selectattr") return Value(select_items(in, a, true, true, "selectattr"));
  if (name == "rejectattr") return Value(select_items(in, a, true, false, "rejectattr"));
  if (name == "select") return Value(select_items(in, a, false, true, "select"));
  if (name == "reject") return Value(select_items(in, a, false, false, "reject"));
  if (name == "map") {
    ValueList out;
    const Value* attr = kwarg(a, "attribute");
    if (attr) {
      const Value* dflt = kwarg(a, "default");
      for (const auto& item : iterate(in, "map")) {
        Value v = attribute_of(item, attr->str());
        out.push_back(v.is_undefined() && dflt ? *dflt : v);
      }
      return Value(out);
    }
    if (a.positional.empty()) fail("map needs a filter name or attribute=");
    const std::string& f = need_string(a.positional[0], "map");
    if (!is_known_filter(f) || f == "map") fail("map: unsupported filter '" + f + "'");
    CallArgs fargs = rest_args(a, 1);
    for (const auto& item : iterate(in, "map")) out.push_back(apply_filter(f, item, fargs));
    return Value(out);
  }
  if (name == "int") {
    if (in.is_int() || in.is_bool()) return Value(in.as_int());
    if (in.is_float()) return Value(static_cast<int64_t>(in.as_number()));
    if (in.is_string()) {
      char* end = nullptr;
      long long v = std::strtoll(in.as_string().c_str(), &end, 10);
      return Value(static_cast<int64_t>(end && *end == '\0' && !in.as_string().empty() ? v : 0));
    }
    return Value(0);
  }
  if (name == "float") {
    if (in.is_number()) return Value(in.as_number());
    if (in.is_string()) {
      char* end = nullptr;
      double v = std::strtod(in.as_string().c_str(), &end);
      return Value(end && *end == '\0' && !in.as_string().empty() ? v : 0.0);
    }
    return Value(0.0);
  }
  if (name == "abs") {
    if (in.is_int()) return Value(in.as_int() < 0 ? -in.as_int() : in.as_int());
    if (in.is_number()) return Value(std::fabs(in.as_number()));
    fail("bad operand type for abs(): '" + in.type_name() + "'");
  }
  if (name == "round") {
    check_arity(a, 2, {"precision", "method"}, "round");
    const Value* p = arg(a, 0, "precision");
    if (!in.is_number()) fail("round: expected a number, got " + in.type_name());
    double scale = std::pow(10.0, p && p->is_int() ? static_cast<double>(p->as_int()) : 0.0);
    return Value(std::nearbyint(in.as_number() * scale) / scale);
  }
  fail("unsupported filter '" + name + "'");
}

bool apply_test(const std::string& name, const Value& v, const CallArgs& a) {
  auto other = [&]() -> const Value& {
    if (a.positional.empty()) fail("test '" + name + "' needs an argument");
    return a.positional[0];
  };
  if (name == "defined") return !v.is_undefined();
  if (name == "undefined") return v.is_undefined();
  if (name == "none") return v.is_none();
  if (name == "string") return v.is_string();
  if (name == "mapping") return v.is_dict();
  if (name == "iterable") return v.is_list() || v.is_dict() || v.is_string() || v.is_undefined();
  if (name == "sequence") return v.is_list() || v.is_dict() || v.is_string() || v.is_undefined();
  if (name == "number") return v.is_number();
  if (name == "integer") return v.is_int();
  if (name == "float") return v.is_float();
  if (name == "boolean") return v.is_bool();
  if (name == "true") return v.is_bool() && v.as_bool();
  if (name == "false") return v.is_bool() && !v.as_bool();
  if (name == "callable") return v.is_function();
  if (name == "eq" || name == "equalto" || name == "==") return equal(v, other());
  if (name == "ne" || name == "!=") return !equal(v, other());
  if (name == "lt") return less_than(v, other(), true);
  if (name == "gt") return less_than(other(), v, true);
  if (name == "le") return !less_than(other(), v, true);
  if (name == "ge") return !less_than(v, other(), true);
  if (name == "sameas") {
    const Value& o = other();
    if (v.kind() != o.kind()) return false;
    if (v.is_list() || v.is_dict() || v.is_namespace()) return equal(v, o) && &v.as_dict() == &o.as_dict();
    return equal(v, o);
  }
  if (name == "in") {
    const Value& o = other();
    if (o.is_string()) return v.is_string() && o.as_string().find(v.as_string()) != std::string::npos;
    for (const auto& item : iterate(o, "in"))
      if (equal(item, v)) return true;
    return false;
  }
  if (name == "odd" || name == "even" || name == "divisibleby") {
    if (!v.is_int()) fail("test '" + name + "' expects an integer, got " + v.type_name());
    int64_t d = name == "divisibleby" ? other().as_int() : 2;
    if (d == 0) fail("divisibleby 0");
    int64_t r = ((v.as_int() % d) + d) % d;
    return name == "odd" ? r == 1 : r == 0;
  }
  if (name == "lower") return v.is_string() && ascii_case(v.as_string(), false) == v.as_string();
  if (name == "upper") return v.is_string() && ascii_case(v.as_string(), true) == v.as_string();
  fail("unsupported test '" + name + "'");
}

bool has_method(const Value& o, const std::string& n) {
  static const char* const str_methods[] = {"strip",      "lstrip",   "rstrip", "split",  "rsplit",
                                            "startswith", "endswith", "replace", "upper", "lower",
                                            "title",      "capitalize", "find", "count",  "join",
                                            "splitlines", "isdigit",  "isspace", "isalpha"};
  static const char* const dict_methods[] = {"get", "items", "keys", "values"};
  if (o.is_string()) {
    for (const char* m : str_methods)
      if (n == m) return true;
  }
  if (o.is_dict()) {
    for (const char* m : dict_methods)
      if (n == m) return true;
  }
  if (o.is_list()) return n == "index" || n == "count";
  return false;
}

Value call_method(const Value& o, const std::string& n, const CallArgs& a) {
  if (o.is_string()) {
    const std::string& s = o.as_string();
    if (n == "strip" || n == "lstrip" || n == "rstrip") {
      check_arity(a, 1, {}, n);
      return Value(strip_chars(s, arg(a, 0, "chars"), n != "rstrip", n != "lstrip"));
    }
    if (n == "split" || n == "rsplit") {
      check_arity(a, 2, {"sep", "maxsplit"}, n);
      return Value(split_string(s, arg(a, 0, "sep"), arg(a, 1, "maxsplit"), n == "rsplit"));
    }
    if (n == "startswith" || n == "endswith") {
      check_arity(a, 1, {}, n);
      if (a.positional.empty()) fail(n + " needs an argument");
      return Value(starts_or_ends(s, a.positional[0], n == "startswith"));
    }
    if (n == "replace") {
      check_arity(a, 3, {}, n);
      if (a.positional.size() < 2) fail("replace needs two arguments");
      int64_t count = a.positional.size() > 2 && a.positional[2].is_int() ? a.positional[2].as_int() : -1;
      return Value(replace_all(s, need_string(a.positional[0], "replace"), need_string(a.positional[1], "replace"),
                               count));
    }
    if (n == "upper") return Value(ascii_case(s, true));
    if (n == "lower") return Value(ascii_case(s, false));
    if (n == "title") return Value(title(s));
    if (n == "capitalize") return Value(capitalize(s));
    if (n == "find") {
      if (a.positional.empty()) fail("find needs an argument");
      size_t f = s.find(need_string(a.positional[0], "find"));
      if (f == std::string::npos) return Value(-1);
      return Value(static_cast<int64_t>(utf8_length(std::string_view(s).substr(0, f))));
    }
    if (n == "count") {
      if (a.positional.empty()) fail("count needs an argument");
      const std::string& sub = need_string(a.positional[0], "count");
      if (sub.empty()) return Value(static_cast<int64_t>(utf8_length(s) + 1));
      int64_t c = 0;
      for (size_t p = s.find(sub); p != std::string::npos; p = s.find(sub, p + sub.size())) ++c;
      return Value(c);
    }
    if (n == "join") {
      if (a.positional.empty()) fail("join needs an argument");
      std::string out;
      bool first = true;
      for (const auto& item : iterate(a.positional[0], "join")) {
        if (!first) out += s;
        first = false;
        out += need_string(item, "join");
      }
      return Value(out);
    }
    if (n == "splitlines") {
      ValueList out;
      size_t pos = 0;
      while (pos < s.size()) {
        size_t e = s.find_first_of("\r\n", pos);
        if (e == std::string::npos) {
          out.emplace_back(s.substr(pos));
          break;
        }
        out.emplace_back(s.substr(pos, e - pos));
        pos = e + ((s[e] == '\r' && e + 1 < s.size() && s[e + 1] == '\n') ? 2 : 1);
      }
      return Value(out);
    }
    if (n == "isdigit" || n == "isspace" || n == "isalpha") {
      if (s.empty()) return Value(false);
      for (char32_t c : decode_utf8(s)) {
        const bool ok = n == "isdigit" ? (c >= '0' && c <= '9')
                        : n == "isspace" ? is_python_space(c)
                                         : (c < 0x80 && is_ascii_letter(static_cast<char>(c)));
        if (!ok) return Value(false);
      }
      return Value(true);
    }
  }
  if (o.is_dict()) {
    const ValueDict& d = o.as_dict();
    if (n == "get") {
      if (a.positional.empty()) fail("get needs a key");
      check_arity(a, 2, {}, "get");
      const Value* f = a.positional[0].is_string() ? d.find(a.positional[0].as_string()) : nullptr;
      if (f) return *f;
      return a.positional.size() > 1 ? a.positional[1] : Value::none();
    }
    if (n == "items") return apply_filter("items", o, {});
    if (n == "keys" || n == "values") {
      ValueList out;
      for (const auto& kv : d.items) out.push_back(n == "keys" ? Value(kv.first) : kv.second);
      return Value(out);
    }
  }
  if (o.is_list()) {
    if (a.positional.empty()) fail(n + " needs an argument");
    const auto& l = o.as_list();
    int64_t c = 0;
    for (size_t i = 0; i < l.size(); ++i) {
      if (equal(l[i], a.positional[0])) {
        if (n == "index") return Value(static_cast<int64_t>(i));
        ++c;
      }
    }
    if (n == "index") fail("list.index(x): x not in list");
    return Value(c);
  }
  fail("'" + o.type_name() + "' object has no method '" + n + "'");
}

}  // namespace psy::jinja

// The Jinja engine: Python semantics, transformers' environment and load/render errors.
// Expected strings were checked against jinja2 3.1.6 with transformers' environment.
#include <catch2/catch.hpp>

#include "libpsy/core/error.h"
#include "libpsy/text/jinja/template.h"

using psy::jinja::Template;
using psy::jinja::Value;
using psy::jinja::ValueDict;
using psy::jinja::ValueList;

namespace {

std::string render(const std::string& src, const ValueDict& vars = {}) {
  return Template::parse(src, "t.jinja").render(vars);
}

std::string load_error(const std::string& src) {
  try {
    Template::parse(src, "t.jinja");
  } catch (const psy::Error& e) {
    return e.what();
  }
  return "";
}

std::string render_error(const std::string& src, const ValueDict& vars = {}) {
  try {
    render(src, vars);
  } catch (const psy::Error& e) {
    return e.what();
  }
  return "";
}

ValueDict msgs() {
  ValueDict m1, m2;
  m1.set("role", Value("user"));
  m1.set("content", Value("  hi  "));
  m2.set("role", Value("assistant"));
  m2.set("content", Value("yo"));
  ValueDict vars;
  vars.set("messages", Value(ValueList{Value(m1), Value(m2)}));
  return vars;
}

}  // namespace

TEST_CASE("jinja: whitespace control as transformers configures it", "[jinja]") {
  CHECK(render("  {% if true %}\n  x\n  {% endif %}\n") == "  x\n");  // lstrip_blocks + trim_blocks
  CHECK(render("a  {%- if true -%}  b  {%- endif %}") == "ab");
  CHECK(render("a {{- 'b' -}} c") == "abc");
  CHECK(render("a\n{# note #}\nb") == "a\nb");
  CHECK(render("x\n") == "x");                 // keep_trailing_newline is off
  CHECK(render("a\r\nb{% if 1 %}\r\nc{% endif %}") == "a\nbc");  // newlines normalised
  CHECK(render("  {%+ if true %}x{% endif %}") == "  x");
  CHECK(render("{% if true +%}\nx{% endif %}") == "\nx");
}

TEST_CASE("jinja: loops, loop variables, filters in the iterable, else, break/continue", "[jinja]") {
  ValueDict v = msgs();
  CHECK(render("{% for m in messages %}{{ loop.index }}/{{ loop.length }}{{ m.role[0] }}"
               "{% if loop.first %}F{% endif %}{% if loop.last %}L{% endif %}{{ loop.revindex }} {% endfor %}",
               v) == "1/2uF2 2/2aL1 ");
  CHECK(render("{% for m in messages[::-1] %}{{ m['role'] }},{% endfor %}", v) == "assistant,user,");
  CHECK(render("{% for m in messages if m.role == 'assistant' %}{{ loop.index0 }}{{ m.content }}{% endfor %}", v) ==
        "0yo");
  CHECK(render("{% for x in [] %}no{% else %}empty{% endfor %}") == "empty");
  CHECK(render("{% for x in [1,2,3,4] %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 4 %}{% break %}"
               "{% endif %}{{ x }}{% endfor %}") == "13");
  CHECK(render("{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }};{% endfor %}") == "a=1;b=2;");
  CHECK(render("{% for k, v in {'a': 1}|items %}{{ k }}{{ v }}{% endfor %}") == "a1");
  // set inside a loop does not leak out, and resets every iteration (as jinja2 does)
  CHECK(render("{% set x = 0 %}{% for i in [1,2,3] %}{{ x }}{% set x = i %}{% endfor %}{{ x }}") == "0000");
}

TEST_CASE("jinja: namespace, set, set blocks, macros", "[jinja]") {
  CHECK(render("{% set ns = namespace(n=0) %}{% for i in [1,2] %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}") ==
        "3");
  CHECK(render("{% set a, b = [1, 2] %}{{ b }}{{ a }}") == "21");
  CHECK(render("{% set x %}in{{ 1 }}{% endset %}[{{ x }}]") == "[in1]");
  CHECK(render("{% macro f(a, b='z') %}[{{ a }}{{ b }}]{% endmacro %}{{ f(1) }}{{ f(1, b=2) }}") == "[1z][12]");
  CHECK(render("{% if true %}{% set y = 5 %}{% endif %}{{ y }}") == "5");  // if shares its scope
}

TEST_CASE("jinja: expressions with Python semantics", "[jinja]") {
  CHECK(render("{{ 'a' ~ 1 ~ none }}") == "a1None");
  CHECK(render("{{ 'a' + 'b' }}{{ [1] + [2] }}") == "ab[1, 2]");
  CHECK(render("{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 1 / 2 }} {{ 4 / 2 }} {{ 2 ** 10 }}") ==
        "3 -4 1 2 0.5 2.0 1024");
  CHECK(render("{{ 0.1 + 0.2 }} {{ 1e20 }} {{ 1.5e-7 }}") == "0.30000000000000004 1e+20 1.5e-07");
  CHECK(render("{{ 'b' in 'abc' }} {{ 2 not in [1, 2] }} {{ 'k' in {'k': 1} }}") == "True False True");
  CHECK(render("{{ 1 if false }}|{{ 'y' if 0 else 'n' }}|{{ none or 'd' }}|{{ 0 and 1 }}") == "|n|d|0");
  CHECK(render("{{ 'héllo'[1] }}{{ 'abc'[-1] }}{{ 'abcdef'[1:4] }}{{ 'abc'[::-1] }}{{ [1,2,3][-2:] }}{{ (1,) }}{{ {'a': 1}|items|list }}") ==
        "écbcdcba[2, 3](1,)[('a', 1)]");
  CHECK(render("{{ [1, 'a', none, true, 1.5, {'k': 'v'}] }}") == "[1, 'a', None, True, 1.5, {'k': 'v'}]");
  CHECK(render("{{ \"it's\" }} {{ ['it\\'s'] }}") == "it's [\"it's\"]");
  CHECK(render("{{ not undefined_thing }}{{ undefined_thing }}|{{ undefined_thing is defined }}") == "True|False");
  CHECK(render("{{ 'ab' * 3 }}{{ 1 < 2 < 3 }}{{ 3 > 2 > 1 }}") == "abababTrueTrue");
}

TEST_CASE("jinja: filters and tests chat templates use", "[jinja]") {
  CHECK(render("[{{ '  x \\n'|trim }}][{{ 'xxaxx'|trim('x') }}]") == "[x][a]");
  CHECK(render("{{ [1,2]|length }}{{ 'héllo'|length }}{{ {'a':1}|count }}") == "251");
  CHECK(render("{{ {'b': 'é<', 'a': [1, 2.5, none, true]}|tojson }}") == "{\"b\": \"é<\", \"a\": [1, 2.5, null, true]}");
  CHECK(render("{{ {'a': [1]}|tojson(indent=2) }}") == "{\n  \"a\": [\n    1\n  ]\n}");
  CHECK(render("{{ {'b': 1, 'a': 2}|tojson(sort_keys=true, separators=(',', ':')) }}") == "{\"a\":2,\"b\":1}");
  CHECK(render("{{ 'é'|tojson(ensure_ascii=true) }}") == "\"\\u00e9\"");
  CHECK(render("{{ 'Ab'|lower }}{{ 'ab'|upper }}{{ 'hello world'|title }}{{ 'hELLO'|capitalize }}") ==
        "abABHello WorldHello");
  CHECK(render("{{ [1,2,3]|first }}{{ [1,2,3]|last }}{{ ['a','b']|join(', ') }}{{ x|default('d') }}") ==
        "13a, bd");
  CHECK(render("{{ 'aXbX'|replace('X', '-') }}{{ 'ab'|list }}{{ 3|string + '!' }}") == "a-b-['a', 'b']3!");
  ValueDict v = msgs();
  CHECK(render("{{ messages|selectattr('role', 'equalto', 'user')|map(attribute='content')|list }}", v) ==
        "['  hi  ']");
  CHECK(render("{{ messages|rejectattr('role', 'eq', 'user')|list|length }}", v) == "1");
  CHECK(render("{{ ['a','code_interpreter','b']|reject('equalto', 'code_interpreter')|join(',') }}") == "a,b");
  CHECK(render("{{ {'b': 1, 'A': 2}|dictsort }}") == "[('A', 2), ('b', 1)]");
  CHECK(render("{{ 'x' is string }}{{ {} is mapping }}{{ [] is iterable }}{{ none is none }}{{ 1 is number }}"
               "{{ false is false }}{{ true is boolean }}{{ 3 is odd }}{{ x is not defined }}") ==
        "TrueTrueTrueTrueTrueTrueTrueTrueTrue");
}

TEST_CASE("jinja: string and dict methods", "[jinja]") {
  CHECK(render("[{{ '\\n a \\n'.strip() }}][{{ 'xxa'.lstrip('x') }}][{{ 'a\\n\\n'.rstrip('\\n') }}]") ==
        "[a][a][a]");
  CHECK(render("{{ 'a</think>b</think>c'.split('</think>') }}{{ ' a  b '.split() }}{{ 'a,b,c'.rsplit(',', 1) }}") ==
        "['a', 'b', 'c']['a', 'b']['a,b', 'c']");
  CHECK(render("{{ 'abc'.startswith('ab') }}{{ 'abc'.endswith(('x', 'c')) }}{{ 'aa'.replace('a', 'b', 1) }}") ==
        "TrueTrueba");
  CHECK(render("{{ {'a': 1}.get('a') }}{{ {'a': 1}.get('b', 2) }}{{ {'a': 1}.get('b') }}{{ {'a': 1}.keys()|list }}") ==
        "12None['a']");
  CHECK(render("{{ '-'.join(['a', 'b']) }}{{ 'Hi'.upper() }}{{ 'Hi'.lower() }}") == "a-bHIhi");
}

TEST_CASE("jinja: globals of transformers' environment", "[jinja]") {
  CHECK(render("{{ range(3)|list }}{{ dict(a=1) }}") == "[0, 1, 2]{'a': 1}");
  CHECK(render("{{ strftime_now('%Y')|length }}") == "4");
  std::string e = render_error("{{ raise_exception('Only user and assistant roles are supported!') }}");
  CHECK(e == "t.jinja:1:4: the template raised an exception: Only user and assistant roles are supported!");
}

TEST_CASE("jinja: unsupported constructs fail at load with one line naming file, position and construct",
          "[jinja][errors]") {
  CHECK(load_error("a\n  {% include 'x.jinja' %}") ==
        "t.jinja:2:6: unsupported Jinja construct '{% include %}' (supported statements: if/elif/else, for (with "
        "else, inline if, tuple targets), set (incl. namespace attributes and set blocks), macro, generation, break, "
        "continue)");
  CHECK(load_error("{{ x | wordwrap }}").rfind("t.jinja:1:8: unsupported Jinja filter 'wordwrap' (supported filters: ", 0) == 0);
  CHECK(load_error("{{ x is divisible }}").rfind("t.jinja:1:9: unsupported Jinja test 'divisible'", 0) == 0);
  CHECK(load_error("{% for x in y recursive %}{% endfor %}").find("recursive for loops") != std::string::npos);
  CHECK(load_error("{% if x %}never closed") == "t.jinja:1:23: unexpected end of template: missing {% elif %} or "
                                                 "{% else %} or {% endif %}");
  CHECK(load_error("{% endfor %}") == "t.jinja:1:4: '{% endfor %}' without a matching opening statement");
  CHECK(load_error("{{ 'abc }}") == "t.jinja:1:4: unterminated string literal");
  CHECK(load_error("{{ x }") == "t.jinja:1:1: unterminated tag: '{{' without '}}'");
  CHECK(load_error("{{ a ! b }}") == "t.jinja:1:6: unexpected character '!' (use 'not' or '!=') in a tag");
  CHECK(load_error("{% break %}") == "t.jinja:1:4: 'break' outside a for loop");
  CHECK(load_error("{# open").rfind("t.jinja:1:1: unterminated comment", 0) == 0);
}

TEST_CASE("jinja: render errors are one clear line", "[jinja][errors]") {
  CHECK(render_error("{{ foo.bar }}") == "t.jinja:1:7: 'foo' is undefined");
  CHECK(render_error("{{ d.x.y }}", [] {
          ValueDict v;
          v.set("d", Value(ValueDict{}));
          return v;
        }()) == "t.jinja:1:7: 'dict object' has no attribute 'x'");
  CHECK(render_error("{{ 'a' + 1 }}") == "t.jinja:1:8: can only concatenate str (not \"int\") to str");
  CHECK(render_error("{{ x|tojson }}").find("not JSON serializable") != std::string::npos);
  CHECK(render_error("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}").find("nested deeper") != std::string::npos);
  CHECK(render_error("{% set x = 1 %}{% set x.a = 2 %}").find("not a namespace") != std::string::npos);
}

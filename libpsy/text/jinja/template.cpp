#include "libpsy/text/jinja/template.h"

#include "libpsy/text/jinja/ast.h"
#include "libpsy/text/jinja/lexer.h"
#include "libpsy/text/jinja/parser.h"

namespace psy::jinja {

struct ParsedTemplate {
  std::string name;
  std::string source;
  Body body;
};

Template Template::parse(const std::string& source, const std::string& source_name) {
  auto p = std::make_shared<ParsedTemplate>();
  p->name = source_name;
  p->source = source;
  p->body = parse_template(lex_template(source, source_name), source_name);
  Template t;
  t.impl_ = std::move(p);
  return t;
}

std::string Template::render(const ValueDict& variables, const RenderLimits& limits) const {
  return render_body(impl_->body, variables, impl_->name, limits);
}

const std::string& Template::source_name() const { return impl_->name; }
const std::string& Template::source() const { return impl_->source; }

}  // namespace psy::jinja

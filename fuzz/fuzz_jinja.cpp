// libFuzzer target for the Jinja chat-template engine (LibTorch-free): any input is a template
// source; it must either fail to load with psy::Error, or render a small conversation (with and
// without the generation prompt) or fail with psy::Error. Never crash, hang, leak or grow
// without bound (render limits are lowered so a hostile loop ends quickly). Build and run with
// fuzz/run_jinja.sh.
#include <cstddef>
#include <cstdint>
#include <string>

#include "libpsy/core/error.h"
#include "libpsy/text/jinja/template.h"

using psy::jinja::Value;
using psy::jinja::ValueDict;
using psy::jinja::ValueList;

namespace {

ValueDict variables(bool generation_prompt) {
  auto message = [](const char* role, const char* content) {
    ValueDict m;
    m.set("role", Value(role));
    m.set("content", Value(content));
    return Value(m);
  };
  ValueDict v;
  v.set("messages", Value(ValueList{message("system", "Be kind."), message("user", " Hi <|im_end|> "),
                                    message("assistant", "<think>\nr\n</think>\n\nHello!")}));
  v.set("add_generation_prompt", Value(generation_prompt));
  v.set("bos_token", Value("<s>"));
  v.set("eos_token", Value("</s>"));
  v.set("tools", Value::none());
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string source(reinterpret_cast<const char*>(data), size);
  psy::jinja::RenderLimits limits;
  limits.max_output_bytes = 1 << 20;
  limits.max_steps = 200000;
  limits.max_call_depth = 32;
  limits.max_list_size = 100000;
  try {
    psy::jinja::Template t = psy::jinja::Template::parse(source, "fuzz.jinja");
    for (bool gen : {false, true}) {
      try {
        (void)t.render(variables(gen), limits);
      } catch (const psy::Error&) {
      }
    }
  } catch (const psy::Error&) {
  }
  return 0;
}

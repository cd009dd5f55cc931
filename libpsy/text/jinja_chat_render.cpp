#include "libpsy/text/jinja_chat_render.h"

#include <algorithm>
#include <string_view>

#include "libpsy/core/error.h"
#include "libpsy/core/utf8.h"

namespace psy {

namespace {

bool in_reasoning_slot(const MessagePart& p, ChatRole role, const JinjaChatOptions& o) {
  return o.reasoning_slot && role == ChatRole::Assistant && (p.section == "observation" || p.section == "reasoning");
}

// One message field (content or reasoning_content) and the parts it is made of.
struct Field {
  size_t message = 0;
  bool reasoning = false;
  std::string text;
  std::vector<size_t> parts;                          // indices into the message's parts
  std::vector<std::pair<size_t, size_t>> part_spans;  // their byte ranges in `text`
  bool blank() const {
    for (char32_t c : decode_utf8(text))
      if (!is_python_space(c)) return false;
    return true;
  }
};

struct Conversation {
  std::vector<TemplateMessage> messages;
  std::vector<Field> fields;
  bool add_generation_prompt = false;
  bool continue_final = false;  // the last message is open with parts
};

Conversation build(const std::vector<ChatMessage>& in, const JinjaChatOptions& o) {
  for (size_t i = 0; i < in.size(); ++i)
    if (in[i].open && (i + 1 != in.size() || in[i].role != ChatRole::Assistant))
      throw Error("chat: only the last message may be open, and it must be an assistant message", kExitFailure);
  Conversation c;
  size_t n = in.size();
  if (n > 0 && in[n - 1].open) {
    bool any = false;
    for (const auto& p : in[n - 1].parts)
      if (!p.text.empty()) any = true;
    if (any) {
      c.continue_final = true;
    } else {
      c.add_generation_prompt = true;
      --n;
    }
  }
  for (size_t i = 0; i < n; ++i) {
    const ChatMessage& m = in[i];
    Field content, reasoning;
    content.message = reasoning.message = i;
    reasoning.reasoning = true;
    for (size_t p = 0; p < m.parts.size(); ++p) {
      Field& f = in_reasoning_slot(m.parts[p], m.role, o) ? reasoning : content;
      f.parts.push_back(p);
      f.part_spans.emplace_back(f.text.size(), f.text.size() + m.parts[p].text.size());
      f.text += m.parts[p].text;
    }
    TemplateMessage tm;
    tm.role = role_name(m.role);
    tm.content = content.text;
    if (!reasoning.parts.empty()) tm.reasoning_content = reasoning.text;
    c.messages.push_back(std::move(tm));
    if (!reasoning.parts.empty()) c.fields.push_back(std::move(reasoning));
    c.fields.push_back(std::move(content));
  }
  return c;
}

std::string placeholder(size_t field) { return "[[psy:field:" + std::to_string(field) + "]]"; }

struct Piece {
  bool is_field = false;
  std::string text;  // template text
  size_t field = 0;
};

// Splits the placeholder render into template text and field references.
std::vector<Piece> skeleton(const std::string& s, size_t n_fields, const std::string& where) {
  std::vector<Piece> out;
  std::vector<int> seen(n_fields, 0);
  const std::string open = "[[psy:field:";
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t f = s.find(open, pos);
    size_t close = f == std::string::npos ? std::string::npos : s.find("]]", f);
    if (f == std::string::npos || close == std::string::npos) {
      if (pos < s.size()) out.push_back({false, s.substr(pos), 0});
      break;
    }
    size_t id = 0;
    bool ok = close > f + open.size();
    for (size_t k = f + open.size(); k < close && ok; ++k) {
      if (s[k] < '0' || s[k] > '9' || id > n_fields) ok = false;
      else id = id * 10 + static_cast<size_t>(s[k] - '0');
    }
    if (!ok || id >= n_fields) {  // not ours: template text
      if (f + 1 > pos) out.push_back({false, s.substr(pos, f + 1 - pos), 0});
      pos = f + 1;
      continue;
    }
    if (f > pos) out.push_back({false, s.substr(pos, f - pos), 0});
    if (++seen[id] > 1)
      throw Error(where + ": the template renders a message's text more than once; psy cannot tell which copy is "
                          "the message (use a built-in chat template instead)",
                  kExitFailure);
    out.push_back({true, "", id});
    pos = close + 2;
  }
  // Merge adjacent template texts (a stray "[[psy:field:" split them).
  std::vector<Piece> merged;
  for (auto& p : out) {
    if (!p.is_field && !merged.empty() && !merged.back().is_field) merged.back().text += p.text;
    else merged.push_back(std::move(p));
  }
  return merged;
}

// Byte offsets where the text may begin after dropping 0, 1, 2, ... leading whitespace code
// points (or, for `trailing`, where it may end after dropping trailing ones).
std::vector<size_t> strip_points(const std::string& s, bool trailing) {
  std::vector<size_t> out;
  std::vector<char32_t> cps = decode_utf8(s);
  std::vector<size_t> offsets;  // byte offset of each code point
  size_t b = 0;
  for (char32_t c : cps) {
    offsets.push_back(b);
    std::string tmp;
    append_utf8(tmp, c);
    b += tmp.size();
  }
  offsets.push_back(s.size());
  if (!trailing) {
    for (size_t i = 0; i <= cps.size() && out.size() < 64; ++i) {
      out.push_back(offsets[i]);
      if (i == cps.size() || !is_python_space(cps[i])) break;
    }
  } else {
    for (size_t i = cps.size(); out.size() < 64; --i) {
      out.push_back(offsets[i]);
      if (i == 0 || !is_python_space(cps[i - 1])) break;
    }
  }
  return out;
}

struct Placed {
  size_t begin = 0, end = 0;  // in the output
  size_t lead = 0;            // bytes of the field dropped at its start
  bool present = false;
};

// Leftmost-longest split of template text at added tokens.
struct AddedSplitter {
  std::vector<std::string> tokens;  // longest first
  explicit AddedSplitter(std::vector<std::string> t) : tokens(std::move(t)) {
    std::stable_sort(tokens.begin(), tokens.end(), [](const std::string& a, const std::string& b) {
      return a.size() > b.size();
    });
  }
  // Calls emit(begin, end, is_token) over [begin, end) of s.
  template <typename Emit>
  void split(const std::string& s, size_t begin, size_t end, Emit emit) const {
    size_t text_start = begin;
    size_t i = begin;
    while (i < end) {
      const std::string* hit = nullptr;
      for (const auto& t : tokens)
        if (!t.empty() && i + t.size() <= end && s.compare(i, t.size(), t) == 0) {
          hit = &t;
          break;
        }
      if (!hit) {
        ++i;
        continue;
      }
      if (i > text_start) emit(text_start, i, false);
      emit(i, i + hit->size(), true);
      i += hit->size();
      text_start = i;
    }
    if (end > text_start) emit(text_start, end, false);
  }
  // End of the first added token in [begin, end), or npos.
  size_t first_token_end(const std::string& s, size_t begin, size_t end) const {
    size_t found = std::string::npos;
    split(s, begin, end, [&](size_t, size_t e, bool tok) {
      if (tok && found == std::string::npos) found = e;
    });
    return found;
  }
};

bool ends_with_target(const std::vector<MessagePart>& parts) {
  for (auto it = parts.rbegin(); it != parts.rend(); ++it)
    if (!it->text.empty()) return it->target;
  return false;
}

}  // namespace

int32_t assistant_closing_token(const JinjaChatTemplate& tmpl, const Tokenizer& tokenizer) {
  const std::vector<ChatMessage> probe = {
      {ChatRole::User, {{"Hello.", "client", false}}, false},
      {ChatRole::Assistant, {{"Hi.", "response", true}}, false},
  };
  std::vector<ChatSegment> segs;
  try {
    segs = render_chat_jinja(tmpl, probe, tokenizer);
  } catch (const Error&) {
    return -1;
  }
  bool after = false;
  for (const auto& s : segs) {
    if (s.section == "response") after = true;
    else if (after && s.token_id >= 0) return s.token_id;
  }
  return -1;
}

std::vector<TemplateMessage> template_messages(const std::vector<ChatMessage>& messages, const JinjaChatOptions& options,
                                               bool& add_generation_prompt) {
  Conversation c = build(messages, options);
  add_generation_prompt = c.add_generation_prompt;
  return c.messages;
}

std::vector<ChatSegment> render_chat_jinja(const JinjaChatTemplate& tmpl, const std::vector<ChatMessage>& messages,
                                           const Tokenizer& tokenizer, const JinjaChatOptions& options) {
  const std::string& where = tmpl.source_name();
  Conversation c = build(messages, options);
  const std::string out = tmpl.render(c.messages, c.add_generation_prompt);

  std::vector<TemplateMessage> masked = c.messages;
  std::vector<bool> located(c.fields.size(), false);
  for (size_t f = 0; f < c.fields.size(); ++f) {
    const Field& field = c.fields[f];
    if (field.blank()) continue;  // whitespace stays template-visible as it is
    located[f] = true;
    TemplateMessage& m = masked[field.message];
    if (field.reasoning) m.reasoning_content = placeholder(f);
    else m.content = placeholder(f);
  }
  const std::vector<Piece> pieces = skeleton(tmpl.render(masked, c.add_generation_prompt), c.fields.size(), where);

  auto mismatch = [&](size_t at, const std::string& what) -> Error {
    const size_t from = at > 30 ? at - 30 : 0;
    return Error(where + ": " + what + " near byte " + std::to_string(at) + " of the rendered chat (\"..." +
                     out.substr(from, std::min<size_t>(60, out.size() - std::min(out.size(), from))) +
                     "...\"); the template rewrites or inspects message text in a way psy cannot follow: use a "
                     "built-in chat template (mistral, llama2, chatml, plain) for this model",
                 kExitFailure);
  };

  // Match the output against the skeleton.
  std::vector<Placed> placed(c.fields.size());
  std::vector<std::pair<size_t, size_t>> template_ranges;  // template text in `out`
  size_t cur = 0;
  for (size_t i = 0; i < pieces.size(); ++i) {
    const Piece& p = pieces[i];
    if (!p.is_field) {
      if (out.compare(cur, p.text.size(), p.text) != 0) throw mismatch(cur, "template text differs");
      template_ranges.emplace_back(cur, cur + p.text.size());
      cur += p.text.size();
      continue;
    }
    const Field& f = c.fields[p.field];
    const std::string* next_text = (i + 1 < pieces.size() && !pieces[i + 1].is_field) ? &pieces[i + 1].text : nullptr;
    const bool last = i + 1 == pieces.size();
    bool ok = false;
    const std::vector<size_t> leads = strip_points(f.text, false), trails = strip_points(f.text, true);
    for (size_t total = 0; total < leads.size() + trails.size() && !ok; ++total) {
      for (size_t li = 0; li <= total && li < leads.size() && !ok; ++li) {
        const size_t ti = total - li;
        if (ti >= trails.size()) continue;
        const size_t b = leads[li], e = trails[ti];
        if (e < b) continue;
        const size_t len = e - b;
        if (out.compare(cur, len, f.text, b, len) != 0) continue;
        if (next_text && out.compare(cur + len, next_text->size(), *next_text) != 0) continue;
        if (!next_text && last && cur + len != out.size()) continue;
        placed[p.field] = {cur, cur + len, b, true};
        cur += len;
        ok = true;
      }
    }
    if (!ok)
      throw mismatch(cur, std::string("message ") + std::to_string(f.message) + "'s " +
                              (f.reasoning ? "reasoning_content" : "content") + " is not rendered as given");
  }
  if (cur != out.size()) throw mismatch(cur, "the output is longer than the template's skeleton");

  // Every target part must be rendered.
  for (size_t f = 0; f < c.fields.size(); ++f) {
    const Field& field = c.fields[f];
    if (!located[f] || placed[f].present) continue;
    for (size_t p : field.parts)
      if (messages[field.message].parts[p].target && !messages[field.message].parts[p].text.empty())
        throw Error(where + ": the template leaves out message " + std::to_string(field.message) + "'s " +
                        (field.reasoning ? "reasoning_content" : "content") +
                        ", which holds training targets (e.g. it drops reasoning of earlier turns); " +
                        (field.reasoning ? "turn off data.reasoning_slot or " : "") +
                        "use a built-in chat template",
                    kExitFailure);
  }

  // Where the output ends: after the final message's last field when it is continued.
  size_t stop = out.size();
  if (c.continue_final) {
    stop = 0;
    for (size_t f = 0; f < c.fields.size(); ++f)
      if (c.fields[f].message + 1 == messages.size() && placed[f].present) stop = std::max(stop, placed[f].end);
  }

  const AddedSplitter splitter(tmpl.added_tokens());

  // Target regions of template text: per closed target assistant message, from the end of its
  // generation prompt to its closing added token.
  std::vector<std::pair<size_t, size_t>> regions;
  for (size_t m = 0; m < c.messages.size(); ++m) {
    const ChatMessage& msg = messages[m];
    if (msg.role != ChatRole::Assistant || msg.open || !ends_with_target(msg.parts)) continue;
    size_t first = std::string::npos, last_end = 0;
    for (size_t f = 0; f < c.fields.size(); ++f) {
      if (c.fields[f].message != m || !placed[f].present) continue;
      first = std::min(first, placed[f].begin);
      last_end = std::max(last_end, placed[f].end);
    }
    if (first == std::string::npos) continue;
    size_t begin = first;
    if (m > 0) {
      std::vector<TemplateMessage> before(c.messages.begin(), c.messages.begin() + static_cast<long>(m));
      const std::string prompt = tmpl.render(before, true);
      if (prompt.size() <= first && out.compare(0, prompt.size(), prompt) == 0) begin = prompt.size();
    }
    size_t next_field = out.size();
    for (const auto& pl : placed)
      if (pl.present && pl.begin >= last_end) next_field = std::min(next_field, pl.begin);
    size_t close = splitter.first_token_end(out, last_end, next_field);
    regions.emplace_back(begin, close == std::string::npos ? last_end : close);
  }
  auto in_region = [&](size_t pos) {
    for (const auto& r : regions)
      if (pos >= r.first && pos < r.second) return true;
    return false;
  };

  // The message each byte of template text belongs to (for roles): the next field's message.
  auto role_at = [&](size_t pos) {
    size_t best = std::string::npos, best_pos = std::string::npos;
    for (size_t f = 0; f < c.fields.size(); ++f)
      if (placed[f].present && placed[f].begin >= pos && placed[f].begin < best_pos) {
        best_pos = placed[f].begin;
        best = c.fields[f].message;
      }
    if (best == std::string::npos) return c.add_generation_prompt ? ChatRole::Assistant : messages.back().role;
    if (in_region(pos)) return ChatRole::Assistant;
    return messages[best].role;
  };

  // Emit segments in output order.
  struct Item {
    size_t begin, end;
    bool is_field;
    size_t field;
  };
  std::vector<Item> items;
  for (const auto& r : template_ranges) items.push_back({r.first, r.second, false, 0});
  for (size_t f = 0; f < c.fields.size(); ++f)
    if (placed[f].present) items.push_back({placed[f].begin, placed[f].end, true, f});
  std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  // Spaces that end template text right before a message field are encoded with the field: a
  // tokenizer joins a space to the word after it ("[/INST] Tell" is "▁Tell", " Tell" one
  // byte-level piece), so this keeps segment-wise ids equal to encoding the whole string.
  std::vector<size_t> lead_space(items.size(), 0);
  for (size_t i = 0; i + 1 < items.size(); ++i) {
    Item& t = items[i];
    const Item& f = items[i + 1];
    if (t.is_field || !f.is_field || t.end != f.begin || f.begin >= std::min(f.end, stop)) continue;
    size_t k = 0;
    while (t.end - k > t.begin && out[t.end - k - 1] == ' ') ++k;
    if (k == 0) continue;
    // Only when no added token ends with those spaces.
    if (splitter.first_token_end(out, t.end - k, t.end) != std::string::npos) continue;
    t.end -= k;
    lead_space[i + 1] = k;
  }

  std::vector<ChatSegment> segs;
  for (size_t n = 0; n < items.size(); ++n) {
    const Item& it = items[n];
    const size_t b = it.begin, e = std::min(it.end, stop);
    if (b >= e) continue;
    if (it.is_field) {
      const Field& f = c.fields[it.field];
      const ChatMessage& msg = messages[f.message];
      const size_t shift = placed[it.field].lead;
      size_t space = lead_space[n];  // template spaces joined to the first part
      for (size_t k = 0; k < f.parts.size(); ++k) {
        const MessagePart& part = msg.parts[f.parts[k]];
        size_t pb = std::max(f.part_spans[k].first, shift), pe = f.part_spans[k].second;
        pb = pb - shift + b;
        pe = pe < shift ? b : pe - shift + b;
        pe = std::min(pe, e);
        if (pb >= pe) continue;
        pb -= space;
        space = 0;
        segs.push_back({msg.role, part.section, out.substr(pb, pe - pb), -1, part.target});
      }
      continue;
    }
    splitter.split(out, b, e, [&](size_t sb, size_t se, bool token) {
      if (token) {
        const std::string text = out.substr(sb, se - sb);
        const int32_t id = tokenizer.piece_to_id(text);
        if (id < 0)
          throw Error(where + ": the template writes the added token " + text + " but tokenizer " + tokenizer.name() +
                          " has no such token",
                      kExitFailure);
        const char* section = id == tokenizer.bos_id() ? "bos" : id == tokenizer.eos_id() ? "eos" : "control";
        segs.push_back({role_at(sb), section, text, id, in_region(sb)});
        return;
      }
      // Split text at region boundaries so each piece has one target flag.
      size_t p = sb;
      while (p < se) {
        const bool t = in_region(p);
        size_t q = p + 1;
        while (q < se && in_region(q) == t) ++q;
        segs.push_back({role_at(p), "template", out.substr(p, q - p), -1, t});
        p = q;
      }
    });
  }
  return segs;
}

}  // namespace psy

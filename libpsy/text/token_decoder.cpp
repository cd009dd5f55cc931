#include "libpsy/text/token_decoder.h"

#include "libpsy/core/utf8.h"
#include "libpsy/text/byte_level.h"

namespace psy {

namespace {

const char* kSupported = "ByteLevel, Metaspace, Replace, ByteFallback, Fuse, Strip, Sequence";

void parse_into(const nlohmann::json& j, const JsonSpot& at, std::vector<DecoderStep>& out) {
  require_object(j, at);
  const std::string type = get_string(j, "type", at);
  DecoderStep s;
  if (type == "Sequence") {
    check_keys(j, at, {"decoders"});
    if (!j.contains("decoders") || !j["decoders"].is_array()) throw_bad_value(at.child("decoders"), "a list", j.value("decoders", nlohmann::json()));
    for (size_t i = 0; i < j["decoders"].size(); ++i) parse_into(j["decoders"][i], at.child("decoders").index(i), out);
    return;
  }
  if (type == "ByteLevel") {
    check_keys(j, at, {"add_prefix_space", "trim_offsets", "use_regex"});
    s.kind = DecoderStep::Kind::ByteLevel;
  } else if (type == "Metaspace") {
    check_keys(j, at, {"replacement", "prepend_scheme", "split", "add_prefix_space", "str_rep"});
    s.kind = DecoderStep::Kind::Metaspace;
    s.content = get_string(j, "replacement", at);
    if (j.contains("prepend_scheme")) s.prepend = get_string(j, "prepend_scheme", at) != "never";
    else s.prepend = get_bool_or(j, "add_prefix_space", at, true);
  } else if (type == "Replace") {
    check_keys(j, at, {"pattern", "content"});
    bool regex = false;
    s.kind = DecoderStep::Kind::Replace;
    s.pattern = get_pattern(j, "pattern", at, regex);
    if (regex) throw_unsupported(at.child("pattern"), "a regex pattern in a Replace decoder", "string patterns");
    if (s.pattern.empty()) throw_bad_value(at.child("pattern"), "a non-empty string", j["pattern"]);
    s.content = get_string(j, "content", at);
  } else if (type == "ByteFallback" || type == "Fuse") {
    check_keys(j, at, {});
    s.kind = type == "Fuse" ? DecoderStep::Kind::Fuse : DecoderStep::Kind::ByteFallback;
  } else if (type == "Strip") {
    check_keys(j, at, {"content", "start", "stop"});
    s.kind = DecoderStep::Kind::Strip;
    s.content = get_string(j, "content", at);
    if (utf8_length(s.content) != 1) throw_bad_value(at.child("content"), "one character", j["content"]);
    s.start = get_int_or(j, "start", at, 0);
    s.stop = get_int_or(j, "stop", at, 0);
    if (s.start < 0 || s.stop < 0) throw_bad_value(at, "non-negative start and stop", j);
  } else {
    throw_unsupported(at.child("type"), "'" + type + "'", kSupported);
  }
  out.push_back(std::move(s));
}

std::string replace_all(const std::string& s, const std::string& pattern, const std::string& content) {
  std::string out;
  size_t last = 0, hit;
  while ((hit = s.find(pattern, last)) != std::string::npos) {
    out.append(s, last, hit - last);
    out += content;
    last = hit + pattern.size();
  }
  out.append(s, last, std::string::npos);
  return out;
}

// "<0xAB>" -> 0xAB, or -1.
int byte_token(const std::string& t) {
  if (t.size() != 6 || t.compare(0, 3, "<0x") != 0 || t[5] != '>') return -1;
  int v = 0;
  for (size_t i = 3; i < 5; ++i) {
    const char c = t[i];
    const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

}  // namespace

TokenDecoder parse_decoder(const nlohmann::json& j, const JsonSpot& at) {
  TokenDecoder d;
  if (j.is_null()) return d;
  parse_into(j, at, d.steps);
  return d;
}

std::string utf8_lossy(const std::string& bytes) {
  std::string out;
  out.reserve(bytes.size());
  size_t i = 0;
  const size_t n = bytes.size();
  auto byte = [&](size_t k) { return static_cast<unsigned char>(bytes[k]); };
  while (i < n) {
    const unsigned char b0 = byte(i);
    if (b0 < 0x80) {
      out += static_cast<char>(b0);
      ++i;
      continue;
    }
    // Length and the valid range of the second byte (WHATWG / Rust rules).
    size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF) len = 2;
    else if (b0 == 0xE0) len = 3, lo = 0xA0;
    else if ((b0 >= 0xE1 && b0 <= 0xEC) || b0 == 0xEE || b0 == 0xEF) len = 3;
    else if (b0 == 0xED) len = 3, hi = 0x9F;
    else if (b0 == 0xF0) len = 4, lo = 0x90;
    else if (b0 >= 0xF1 && b0 <= 0xF3) len = 4;
    else if (b0 == 0xF4) len = 4, hi = 0x8F;
    if (len == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    size_t k = 1;
    bool ok = true;
    for (; k < len; ++k) {
      if (i + k >= n) {
        ok = false;
        break;
      }
      const unsigned char b = byte(i + k);
      const unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
      if (b < l || b > h) {
        ok = false;
        break;
      }
    }
    if (ok) {
      out.append(bytes, i, len);
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      i += k;  // the maximal valid prefix is replaced by one U+FFFD
    }
  }
  return out;
}

std::string decode_tokens(const TokenDecoder& d, std::vector<std::string> tokens) {
  for (const auto& s : d.steps) {
    switch (s.kind) {
      case DecoderStep::Kind::ByteLevel: {
        std::string bytes;
        for (const auto& t : tokens) {
          std::string mapped;
          bool all = true;
          for (char32_t cp : decode_utf8(t)) {
            const int b = byte_level_byte(cp);
            if (b < 0) {
              all = false;
              break;
            }
            mapped += static_cast<char>(b);
          }
          bytes += all ? mapped : t;
        }
        tokens.assign(1, utf8_lossy(bytes));
        break;
      }
      case DecoderStep::Kind::Metaspace:
        for (size_t i = 0; i < tokens.size(); ++i) {
          std::string t = replace_all(tokens[i], s.content, " ");
          if (i == 0 && s.prepend && !t.empty() && t[0] == ' ') t.erase(0, 1);
          tokens[i] = std::move(t);
        }
        break;
      case DecoderStep::Kind::Replace:
        for (auto& t : tokens) t = replace_all(t, s.pattern, s.content);
        break;
      case DecoderStep::Kind::ByteFallback: {
        std::vector<std::string> out;
        std::string pending;
        size_t pending_count = 0;
        auto flush = [&]() {
          if (pending_count == 0) return;
          if (find_invalid_utf8(pending) == std::string_view::npos) {
            out.push_back(pending);
          } else {
            for (size_t k = 0; k < pending_count; ++k) out.push_back("\xEF\xBF\xBD");
          }
          pending.clear();
          pending_count = 0;
        };
        for (auto& t : tokens) {
          const int b = byte_token(t);
          if (b >= 0) {
            pending += static_cast<char>(b);
            ++pending_count;
          } else {
            flush();
            out.push_back(std::move(t));
          }
        }
        flush();
        tokens = std::move(out);
        break;
      }
      case DecoderStep::Kind::Fuse: {
        std::string all;
        for (const auto& t : tokens) all += t;
        tokens.assign(1, all);
        break;
      }
      case DecoderStep::Kind::Strip:
        for (auto& t : tokens) {
          auto cps = decode_utf8(t);
          const char32_t c = decode_utf8(s.content)[0];
          size_t b = 0, e = cps.size();
          for (long k = 0; k < s.start && b < e && cps[b] == c; ++k) ++b;
          for (long k = 0; k < s.stop && e > b && cps[e - 1] == c; ++k) --e;
          std::string r;
          for (size_t k = b; k < e; ++k) append_utf8(r, cps[k]);
          t = std::move(r);
        }
        break;
    }
  }
  std::string out;
  for (const auto& t : tokens) out += t;
  return out;
}

}  // namespace psy

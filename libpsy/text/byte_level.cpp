#include "libpsy/text/byte_level.h"

#include "libpsy/core/utf8.h"

namespace psy {

namespace {

struct Tables {
  std::array<std::string, 256> symbols;
  std::array<char32_t, 256> cps{};
};

const Tables& tables() {
  static const Tables t = [] {
    Tables out;
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      out.cps[static_cast<size_t>(b)] = printable ? static_cast<char32_t>(b) : next++;
      append_utf8(out.symbols[static_cast<size_t>(b)], out.cps[static_cast<size_t>(b)]);
    }
    return out;
  }();
  return t;
}

}  // namespace

const std::array<std::string, 256>& byte_level_symbols() { return tables().symbols; }

int byte_level_byte(char32_t cp) {
  // Printable bytes stand for themselves; the rest were numbered 256.. in byte order.
  if ((cp >= '!' && cp <= '~') || (cp >= 0xA1 && cp <= 0xAC) || (cp >= 0xAE && cp <= 0xFF)) return static_cast<int>(cp);
  if (cp < 256 || cp >= 256 + 68) return -1;
  const auto& t = tables();
  for (int b = 0; b < 256; ++b)
    if (t.cps[static_cast<size_t>(b)] == cp) return b;
  return -1;
}

std::string byte_level_encode(std::string_view raw) {
  const auto& symbols = tables().symbols;
  std::string out;
  out.reserve(raw.size() * 2);
  for (unsigned char b : raw) out += symbols[b];
  return out;
}

}  // namespace psy

#include <catch2/catch.hpp>

#include "libpsy/core/utf8.h"

TEST_CASE("valid UTF-8 round-trips through code points", "[utf8]") {
  std::string s = "héllo 你好 😀";
  CHECK(psy::find_invalid_utf8(s) == std::string_view::npos);
  auto cps = psy::decode_utf8(s);
  CHECK(cps.size() == 10);
  CHECK(psy::encode_utf8(cps) == s);
  CHECK(psy::utf8_length(s) == 10);
}

TEST_CASE("invalid UTF-8 is found at its byte offset", "[utf8]") {
  CHECK(psy::find_invalid_utf8(std::string("ab\xff") + "cd") == 2);
  CHECK(psy::find_invalid_utf8("ab\xc0\xaf") == 2);          // overlong '/'
  CHECK(psy::find_invalid_utf8("x\xed\xa0\x80") == 1);       // surrogate
  CHECK(psy::find_invalid_utf8("\xe4\xbd") == 0);            // truncated
}

TEST_CASE("decode_utf8_at: one code point and its length; invalid bytes are U+FFFD of length 1", "[core][utf8]") {
  char32_t cp = 0;
  const std::string text = "a\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x98\x80\x80\xC3";  // a é 中 😀, a stray continuation, a cut-off lead
  CHECK(psy::decode_utf8_at(text, 0, cp) == 1);
  CHECK(cp == U'a');
  CHECK(psy::decode_utf8_at(text, 1, cp) == 2);
  CHECK(cp == 0xE9);
  CHECK(psy::decode_utf8_at(text, 3, cp) == 3);
  CHECK(cp == 0x4E2D);
  CHECK(psy::decode_utf8_at(text, 6, cp) == 4);
  CHECK(cp == 0x1F600);
  CHECK(psy::decode_utf8_at(text, 10, cp) == 1);
  CHECK(cp == 0xFFFD);
  CHECK(psy::decode_utf8_at(text, 11, cp) == 1);
  CHECK(cp == 0xFFFD);
  CHECK(psy::decode_utf8_at("\xC0\x80", 0, cp) == 1);  // overlong
  CHECK(cp == 0xFFFD);
  CHECK(psy::decode_utf8(text).size() == 6);
}

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

// CRC-32C against published check values (the CRC catalogue's check string and RFC 3720 B.4).
#include <catch2/catch.hpp>

#include <string>

#include "libpsy/io/crc32c.h"

using psy::crc32c;

TEST_CASE("crc32c matches the published check values") {
  CHECK(crc32c("") == 0u);
  CHECK(crc32c("123456789") == 0xE3069283u);
  CHECK(crc32c("a") == 0xC1D04330u);
  CHECK(crc32c(std::string(32, '\0')) == 0x8A9136AAu);   // RFC 3720 B.4: 32 bytes of zeros
  CHECK(crc32c(std::string(32, '\xff')) == 0x62A8AB43u);  // 32 bytes of 0xFF
  std::string up, down;
  for (int i = 0; i < 32; ++i) {
    up.push_back(static_cast<char>(i));
    down.push_back(static_cast<char>(31 - i));
  }
  CHECK(crc32c(up) == 0x46DD794Eu);    // 0x00, 0x01, ..., 0x1F
  CHECK(crc32c(down) == 0x113FDB5Cu);  // 0x1F, ..., 0x00
}

TEST_CASE("crc32c continues over data given in pieces") {
  const std::string all = "The quick brown fox jumps over the lazy dog";
  for (size_t cut : {size_t{0}, size_t{1}, size_t{20}, all.size()})
    CHECK(crc32c(all.substr(cut), crc32c(all.substr(0, cut))) == crc32c(all));
}

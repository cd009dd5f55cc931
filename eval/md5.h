// MD5 of a byte string as 32 lower-case hex digits (RFC 1321). Used to fingerprint data files
// (jieba's dictionary, WordNet) in metric signatures, not for security.
#pragma once
#include <string>
#include <string_view>

namespace psy::eval {

std::string md5_hex(std::string_view data);

}  // namespace psy::eval

// UTF-8 helpers shared by the dataset layer, tokenizers and metrics.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace psy {

// Byte offset of the first invalid UTF-8 sequence, or std::string_view::npos when valid.
// Overlong forms, surrogates and code points above U+10FFFF are invalid.
size_t find_invalid_utf8(std::string_view text);

// Decodes valid UTF-8 into code points (call find_invalid_utf8 first on untrusted input;
// invalid bytes decode as U+FFFD here).
std::vector<char32_t> decode_utf8(std::string_view text);

// Decodes the code point at text[i] into cp and returns its length in bytes; an invalid or cut
// off sequence gives U+FFFD and length 1 (as decode_utf8 does byte by byte). i < text.size().
size_t decode_utf8_at(std::string_view text, size_t i, char32_t& cp);

// Appends the UTF-8 encoding of one code point.
void append_utf8(std::string& out, char32_t cp);
std::string encode_utf8(const std::vector<char32_t>& cps);

// Number of code points in valid UTF-8.
size_t utf8_length(std::string_view text);

// Python's str.isspace() (also what str.split()/str.strip() and regex \s on str treat as space):
// the 29 code points of bidirectional class WS, B or S or category Zs (Unicode 6.3 and later).
bool is_python_space(char32_t cp);

}  // namespace psy

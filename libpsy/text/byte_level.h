// GPT-2's byte-level alphabet (tokenizers' ByteLevel pre-tokenizer and decoder): every byte is
// written as one printable code point, so BPE runs over text that is valid UTF-8 whatever the input.
#pragma once
#include <array>
#include <string>
#include <string_view>

namespace psy {

// The UTF-8 text of the code point standing for each byte.
const std::array<std::string, 256>& byte_level_symbols();
// The byte a symbol code point stands for, or -1 when the code point is not in the alphabet.
int byte_level_byte(char32_t cp);
// Maps every byte of `raw` to its symbol.
std::string byte_level_encode(std::string_view raw);

}  // namespace psy

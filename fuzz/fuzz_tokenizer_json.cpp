// libFuzzer target for the tokenizer.json loader, its split regexes and the BPE encoder
// (LibTorch-free). An input is "TEXT\0TOKENIZER_JSON" (or just TOKENIZER_JSON, then a few fixed
// texts are encoded). It must either load and then encode/decode every text with ids inside the
// vocabulary, or throw psy::Error; never crash, hang, leak or allocate without bound.
// Build and run with fuzz/run_tokenizer_json.sh.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "libpsy/core/error.h"
#include "libpsy/core/utf8.h"
#include "libpsy/text/tokenizer_json_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> texts = {"Hello world, I'm 123 ok!\n\n", " \t\xE5\xBF\x83\xE7\x90\x86 caf\xC3\xA9 <s>[INST]",
                                    "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9 e\xCC\x81  "};
  std::string json = input;
  const size_t zero = input.find('\0');
  if (zero != std::string::npos) {
    const std::string text = input.substr(0, zero);
    json = input.substr(zero + 1);
    if (psy::find_invalid_utf8(text) == std::string::npos) texts.assign(1, text);
  }
  try {
    auto t = psy::parse_tokenizer_json(json, "fuzz/tokenizer.json");
    for (const auto& text : texts) {
      for (bool special : {false, true}) {
        std::vector<int32_t> ids;
        t->encode(text, special, /*chunk_start=*/!special, ids);
        for (int32_t id : ids)
          if (id < 0 || id >= t->vocab_size()) std::abort();  // an id outside the vocabulary
        std::vector<int32_t> plain;
        for (int32_t id : ids) {
          const psy::AddedToken* a = t->added_token(id);
          if (!a || !a->special) plain.push_back(id);
        }
        const std::string decoded = t->decode_chunk(plain);
        if (psy::find_invalid_utf8(decoded) != std::string::npos) std::abort();  // decode must give UTF-8
      }
    }
  } catch (const psy::Error&) {
  }
  return 0;
}

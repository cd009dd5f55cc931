#include "tests/text/tokenizer_json_texts.h"

#include <nlohmann/json.hpp>

#include "libpsy/core/json_file.h"
#include "libpsy/core/utf8.h"
#include "tests/test_support.h"

namespace psy::test {

const std::vector<std::string>& adversarial_texts() {
  static const std::vector<std::string> texts = [] {
    std::vector<std::string> t = {
        "Hello world",
        " leading space",
        "  two leading spaces",
        "trailing space ",
        "trailing spaces   ",
        "   ",
        " ",
        "a",
        "I'm sure you've heard it: they'll say I'd do it, WE'RE DONE, Don'T, she'S",
        "\xC5\xBF's long s and 'S and 'Ve",  // ſ
        "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA7\xE2\x80\x8D\xF0\x9F\x91\xA6 family",  // 👨‍👩‍👧‍👦
        "\xF0\x9F\x8F\xB3\xEF\xB8\x8F\xE2\x80\x8D\xF0\x9F\x8C\x88 flag, \xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD thumbs",  // 🏳️‍🌈 👍🏽
        "\xF0\x9F\x98\x80\xF0\x9F\x98\x81\xF0\x9F\x98\x82 emoji run",
        "e\xCC\x81 combining acute, a\xCC\x8A\xCC\xA3 stacked, \xE0\xA4\xA8\xE0\xA4\xBF Devanagari",
        "caf\xC3\xA9 vs cafe\xCC\x81 (NFC vs NFD)",
        "\xEF\xBC\xA1\xEF\xBC\xA2\xEF\xBC\xA3\xEF\xBC\x91\xEF\xBC\x92\xEF\xBC\x93 full-width letters and digits",
        "\xE6\x88\x91\xE6\x9C\x80\xE8\xBF\x91\xE6\x80\xBB\xE6\x98\xAF\xE7\x9D\xA1\xE4\xB8\x8D\xE7\x9D\x80\xEF\xBC\x8C\xE5\xBF\x83\xE9\x87\x8C\xE5\xBE\x88\xE7\x83\xA6\xE3\x80\x82\xE2\x80\x9C\xE4\xBD\xA0\xE5\xA5\xBD\xE2\x80\x9D\xEF\xBC\x81\xEF\xBC\x9F",
        "\xE3\x80\x8C\xE5\xBC\x95\xE7\x94\xA8\xE3\x80\x8D\xE3\x80\x90\xE6\xA0\x87\xE9\xA2\x98\xE3\x80\x91\xEF\xBC\x88\xE6\x8B\xAC\xE5\x8F\xB7\xEF\xBC\x89\xE2\x80\xA6\xE2\x80\xA6\xE2\x80\x94\xE2\x80\x94",
        "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\xE3\x81\xAE\xE3\x81\xB2\xE3\x82\x89\xE3\x81\x8C\xE3\x81\xAA\xE3\x81\xA8\xE3\x82\xAB\xE3\x82\xBF\xE3\x82\xAB\xE3\x83\x8A \xED\x95\x9C\xEA\xB5\xAD\xEC\x96\xB4",
        "1234567890123456789012345678901234567890",
        "3.14159 and 1,000,000 and 2024-05-01 and 007",
        "\xD9\xA1\xD9\xA2\xD9\xA3 Arabic-Indic digits, \xE2\x85\xA0\xE2\x85\xA1\xE2\x85\xA2 Roman numerals, \xC2\xBD\xC2\xB2",
        "word                                        word",
        "tabs\tand\t\ttabs\t",
        "line\nbreaks\n\nand\r\nCRLF\r\n",
        "\n\n\n",
        " \n \n ",
        "\t \t\n",
        "mixed  \t \n  spaces before\n",
        "control \x01\x02\x07\x1B[0m chars \x7F",
        "nbsp\xC2\xA0here, thin\xE2\x80\x89space, ideographic\xE3\x80\x80space, zwsp\xE2\x80\x8Bhere",
        "line\xE2\x80\xA8separator and next\xC2\x85line",
        "<|im_start|>user\nhello<|im_end|>",
        "</s> and <s> and <unk> and <pad>",
        "[INST] hi [/INST] [TOOL_CALLS]",
        "<|begin_of_text|><|eot_id|><|start_header_id|>",
        "<|endoftext|> <think>reason</think>",
        "[gMASK]<sop><|user|>",
        "<|im_start|",
        "<<|im_start|>>",
        "!!!??? ... ---- ==== ****",
        "$100 #hashtag @mention 50% a+b=c",
        "http://example.com/path?query=1&x=y",
        "\xE2\x96\x81 already a metaspace \xE2\x96\x81\xE2\x96\x81",
        "\xC4\xA0 \xC4\x8A GPT-2 symbols",
        "\xEF\xBF\xBD replacement char",
        "\xF0\x90\x8D\x88 Gothic letter, \xF0\x9D\x90\x80 math bold A",
        "\xE2\x80\x8E\xE2\x80\x8F bidi marks \xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D \xD9\x85\xD8\xB1\xD8\xAD\xD8\xA8\xD8\xA7",
        "ALL CAPS SHOUTING AND lowercase whispers",
        "x'\nS",
        "\xCE\x91\xCE\xA3\xCE\xA3\xCE\x9F\xCE\xA3 Greek",
    };
    std::string long_digits(300, '7');
    t.push_back(long_digits);
    t.push_back(std::string(500, ' ') + "x");
    t.push_back(std::string(200, '\n'));
    std::string cjk;
    for (int i = 0; i < 120; ++i) cjk += "\xE5\xBF\x83\xE7\x90\x86";  // 心理
    t.push_back(cjk);
    // A code-point sweep: every 13th code point of planes 0-1 and every code point of some blocks
    // whose categories are new in Unicode 16.0 (tokenizers' regex tables) or easy to get wrong,
    // each in the contexts the split regexes treat differently.
    std::vector<char32_t> cps;
    for (char32_t c = 1; c < 0x20000; c += 13)
      if (c < 0xD800 || c > 0xDFFF) cps.push_back(c);
    for (char32_t c : {0x0897, 0x1B4E, 0x1B4F, 0x1B7F, 0x1C89, 0x1C8A, 0xA7CB, 0xA7CC, 0xA7CD, 0xA7DA, 0xA7DB, 0xA7DC,
                       0x10D40, 0x10D4A, 0x10D50, 0x10EC2, 0x11380, 0x116D0, 0x16100, 0x16D40, 0x1CC00, 0x1E5D0, 0x1F8B0,
                       0x00AD, 0x0085, 0x180E, 0x200B, 0x2060, 0xFEFF, 0x3000, 0x1680, 0x2028})
      cps.push_back(c);
    for (size_t i = 0; i < cps.size(); i += 96) {
      std::string s;
      for (size_t k = i; k < cps.size() && k < i + 96; ++k) {
        std::string c;
        psy::append_utf8(c, cps[k]);
        s += "x" + c + "y " + c + c + "7" + c + "'s " + c + "\t";
      }
      t.push_back(s);
    }
    return t;
  }();
  return texts;
}

std::vector<std::string> psy_insight_turn_texts() {
  std::vector<std::string> out;
  for (const char* file : {"data/psy-insight/en_data_version7.json", "data/psy-insight/cn_data_version7.json"}) {
    const std::string path = shared_path(file);
    if (path.empty()) return {};
    const nlohmann::json sessions = read_json_file(path);
    for (const auto& s : sessions) {
      if (!s.is_object() || !s.contains("dialog") || !s["dialog"].is_array()) continue;
      for (const auto& turn : s["dialog"]) {
        if (!turn.is_object()) continue;
        for (const char* key : {"content", "observation", "reasoning"}) {
          if (turn.contains(key) && turn[key].is_string() && !turn[key].get<std::string>().empty())
            out.push_back(turn[key].get<std::string>());
        }
      }
    }
  }
  return out;
}

}  // namespace psy::test

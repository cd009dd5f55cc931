#include "tests/text/tiny_tokenizer.h"

#include <cstdlib>
#include <filesystem>
#include <memory>

#include "libpsy/text/tokenizer_train.h"
#include "tests/test_support.h"

namespace psy::test {

std::string sample_en_path() { return source_dir() + "/data/sample/psy_insight_sample_en.json"; }
std::string sample_zh_path() { return source_dir() + "/data/sample/psy_insight_sample_zh.json"; }

const std::string& tiny_tokenizer_dir() {
  static TempDir dir;  // removed when the test process exits
  static const std::string path = [] {
    TokenizerTrainOptions o;
    o.inputs = {sample_en_path()};  // Chinese text then exercises byte fallback
    o.vocab_size = 512;
    write_tokenizer(train_tokenizer(o), dir.path());
    return dir.path();
  }();
  return path;
}

const Tokenizer& tiny_tokenizer() {
  static const Tokenizer tok = Tokenizer::load(tiny_tokenizer_dir());
  return tok;
}

}  // namespace psy::test

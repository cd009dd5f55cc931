#include "tests/cli/tiny_run.h"

#include <filesystem>
#include <stdexcept>

#include "libpsy/text/tokenizer_train.h"
#include "tests/test_support.h"

namespace fs = std::filesystem;

namespace psy::test {

namespace {

struct TinyAssets {
  TempDir dir;
  std::string tokenizer;
  std::string model;
  TinyAssets() {
    TokenizerTrainOptions o;  // in-process: this test executable does not link LibTorch
    o.inputs = {sample_data()};
    o.vocab_size = 600;
    tokenizer = dir.file("tok");
    write_tokenizer(train_tokenizer(o), tokenizer);
    model = dir.file("model");
    auto r = run_psy("init-model --config " + source_dir() + "/tests/fixtures/evaluate/tiny_llama_config.json --tokenizer " +
                     tokenizer + " --out " + model + " --seed 5");
    if (r.exit_code != 0) throw std::runtime_error("psy init-model failed: " + r.err);
  }
};

const TinyAssets& assets() {
  static TinyAssets a;
  return a;
}

}  // namespace

std::string sample_data() { return source_dir() + "/data/sample/psy_insight_sample_en.json"; }
const std::string& tiny_tokenizer_dir() { return assets().tokenizer; }
const std::string& tiny_model_dir() { return assets().model; }

std::string tiny_run_args(const std::string& command, const std::string& out, const std::string& extra) {
  return command + " " + source_dir() + "/tests/fixtures/cli/train_recipe.yaml model.path=" + tiny_model_dir() +
         " data.path=[" + sample_data() + "] output=" + out + " " + extra;
}

std::string temporary_files_under(const std::string& dir) {
  std::string found;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return found;
  for (auto it = fs::recursive_directory_iterator(dir, ec); it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    const std::string name = it->path().filename().string();
    if (name.find(".tmp") != std::string::npos) found += it->path().string() + " ";
  }
  return found;
}

size_t line_count(const std::string& text) {
  size_t n = 0;
  for (char c : text) n += c == '\n';
  if (!text.empty() && text.back() != '\n') ++n;
  return n;
}

}  // namespace psy::test

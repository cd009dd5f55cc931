// libFuzzer target for the predictions.jsonl reader (psy eval's resume file). LibTorch-free.
// Input: the file's bytes. read_predictions must either return the complete records (a cut-off
// last line dropped and counted) or throw psy::Error; every record it returns must survive
// to_json -> record_from_json unchanged. Anything else (another exception, a crash, a leak)
// is a finding. Build and run with fuzz/run_fuzzer.sh predictions.
#include <unistd.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "libpsy/core/error.h"
#include "libpsy/evaluate/prediction_record.h"

namespace {

// One scratch file per fuzzer process, removed at exit.
struct ScratchFile {
  std::string path;
  ScratchFile() {
    std::string name = (std::filesystem::temp_directory_path() / "psy-fuzz-predictions-XXXXXX").string();
    const int fd = mkstemp(name.data());
    if (fd < 0) std::abort();
    close(fd);
    path = name;
  }
  ~ScratchFile() { std::remove(path.c_str()); }
};

void check(bool ok) {
  if (!ok) std::abort();
}

bool same_values(const std::map<std::string, double>& a, const std::map<std::string, double>& b) {
  if (a.size() != b.size()) return false;
  for (auto i = a.begin(), j = b.begin(); i != a.end(); ++i, ++j) {
    if (i->first != j->first) return false;
    if (std::isnan(i->second) != std::isnan(j->second)) return false;
    if (!std::isnan(i->second) && i->second != j->second) return false;
  }
  return true;
}

bool same_sections(const psy::CotSections& a, const psy::CotSections& b) {
  return a.observation == b.observation && a.reasoning == b.reasoning && a.response == b.response;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static ScratchFile scratch;
  FILE* f = std::fopen(scratch.path.c_str(), "wb");
  if (!f) std::abort();
  if (size > 0 && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
  try {
    size_t dropped = 7;
    const auto records = psy::read_predictions(scratch.path, &dropped);
    check(dropped <= 1);
    for (const auto& r : records) {
      const auto back = psy::record_from_json(nlohmann::json::parse(psy::to_json(r).dump()), "fuzz:round-trip");
      check(back.id == r.id && back.session == r.session && back.turn == r.turn && back.task == r.task &&
            back.prompt == r.prompt && back.generation == r.generation && back.well_formed == r.well_formed &&
            back.new_tokens == r.new_tokens && same_sections(back.gold, r.gold) &&
            same_sections(back.parsed, r.parsed) && same_values(back.scores, r.scores) &&
            back.section_scores.size() == r.section_scores.size());
      for (const auto& [k, v] : r.section_scores) check(same_values(back.section_scores.at(k), v));
    }
  } catch (const psy::Error& e) {
    check(e.what()[0] != '\0');
  }
  return 0;
}

// The installed WordNet 3.0 (Debian's wordnet-base, or PSY_WORDNET_DIR) shared by the metric
// tests, loaded once; nullptr with a SKIPPED line when it is not installed.
#pragma once
#include <sys/stat.h>

#include <cstdlib>
#include <iostream>
#include <string>

#include "eval/wordnet.h"

namespace psy::test {

inline const eval::WordNet* installed_wordnet() {
  static const eval::WordNet* wn = []() -> const eval::WordNet* {
    const char* env = std::getenv("PSY_WORDNET_DIR");
    const std::string dir = (env != nullptr && *env != '\0') ? env : "/usr/share/wordnet";
    struct stat st {};
    if (stat((dir + "/index.noun").c_str(), &st) != 0) {
      std::cerr << "SKIPPED: WordNet not installed in " << dir << " (Debian package wordnet-base)\n";
      return nullptr;
    }
    return new eval::WordNet(eval::WordNet::load(dir));
  }();
  return wn;
}

}  // namespace psy::test
